"""A second, independent AotCache writer and vector toolkit, written from spec/FORMAT.md alone.

xxh3      XXH3-64 (seed 0), from xxHash's algorithm description
spec      the numbers of FORMAT.md
writer    Module -> annotated fields -> bytes
fields    a file as annotated fields; annotated hex rendering
programs  small hand-assembled programs the C# loader runs
vectorfile  the text form of spec/vectors (parse, fix up)
"""
