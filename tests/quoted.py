#!/usr/bin/env python3
"""Checks that a README quotes its lesson's code and never retypes it.

    quoted.py README.md main.go go    every ```go block is in main.go
    quoted.py README.md main.c c      every ```c block is in main.c

A block may leave lines out: a line that is only "..." or "// ..." (or
"/* ... */") splits it into pieces, and each piece must appear in the source,
whole lines, in the order of the block. Practice markers in main.c are not
part of the lesson's text, so they are ignored. Prints each block that is not
found, with its first line, and exits 1 if there is one.
"""
import re
import sys

readme, source, lang = sys.argv[1:4]
src_lines = [l.rstrip() for l in open(source, encoding="utf-8")]
src_lines = [l for l in src_lines if not re.match(r"^\s*/\* (practice: .*|end practice) \*/$", l)]
gap = re.compile(r"^\s*(\.\.\.|// \.\.\.|/\* \.\.\. \*/)\s*$")

def find(piece, start):
    for i in range(start, len(src_lines) - len(piece) + 1):
        if src_lines[i:i + len(piece)] == piece:
            return i + len(piece)
    return -1

blocks, current, bad = [], None, 0
for n, line in enumerate(open(readme, encoding="utf-8"), 1):
    line = line.rstrip("\n")
    if current is None and line.strip() == "```" + lang:
        current = (n, [])
    elif current is not None and line.strip() == "```":
        blocks.append(current)
        current = None
    elif current is not None:
        current[1].append(line.rstrip())
for n, body in blocks:
    pieces, piece = [], []
    for line in body:
        if gap.match(line):
            pieces.append(piece)
            piece = []
        else:
            piece.append(line)
    pieces.append(piece)
    at = 0
    for piece in (p for p in pieces if p):
        at = find(piece, at)
        if at < 0:
            print(f"{readme}:{n}: a ```{lang} block not in {source}, from: {piece[0].strip()}")
            bad += 1
            break
sys.exit(1 if bad else 0)
