#!/usr/bin/env python3
"""Checks that a lesson's README quotes its code and never retypes it.

    quoted.py LESSON...    in each LESSON/README.md, every ```go block is in
                           LESSON/main.go and every ```c block in LESSON/main.c

A block may leave lines out: a line that is only "..." or "// ..." (or
"/* ... */") splits it into pieces, and each piece must appear in the source,
whole lines, in the order of the block. Practice markers in main.c are not
part of the lesson's text, so they are ignored. Prints each block that is not
found, with its first line, and exits 1 if there is one. One process checks
every lesson: starting Python costs more than the checks.
"""
import os
import re
import sys

GAP = re.compile(r"^\s*(\.\.\.|// \.\.\.|/\* \.\.\. \*/)\s*$")
MARKER = re.compile(r"^\s*/\* (practice: .*|end practice) \*/$")


def source_lines(path):
    lines = [l.rstrip() for l in open(path, encoding="utf-8")]
    return [l for l in lines if not MARKER.match(l)]


def find(src, piece, start):
    for i in range(start, len(src) - len(piece) + 1):
        if src[i:i + len(piece)] == piece:
            return i + len(piece)
    return -1


def blocks(readme, lang):
    found, current = [], None
    for n, line in enumerate(open(readme, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if current is None and line.strip() == "```" + lang:
            current = (n, [])
        elif current is not None and line.strip() == "```":
            found.append(current)
            current = None
        elif current is not None:
            current[1].append(line.rstrip())
    return found


def check(readme, source, lang):
    src, bad = source_lines(source), 0
    for n, body in blocks(readme, lang):
        pieces, piece = [], []
        for line in body:
            if GAP.match(line):
                pieces.append(piece)
                piece = []
            else:
                piece.append(line)
        pieces.append(piece)
        at = 0
        for piece in (p for p in pieces if p):
            at = find(src, piece, at)
            if at < 0:
                print(f"{readme}:{n}: a ```{lang} block not in {source}, from: {piece[0].strip()}")
                bad += 1
                break
    return bad


bad = 0
for lesson in sys.argv[1:]:
    readme = os.path.join(lesson, "README.md")
    bad += check(readme, os.path.join(lesson, "main.go"), "go")
    bad += check(readme, os.path.join(lesson, "main.c"), "c")
sys.exit(1 if bad else 0)
