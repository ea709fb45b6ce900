"""Bounded JSON nesting for documents from untrusted clients and peers.

py-evm and py_ecc raise Python's recursion limit to 100,000, so `json.loads` of a deeply nested
document overflows the C stack and kills the process instead of raising RecursionError. Every
service checks the depth with this cheap scan first.
"""

from __future__ import annotations

import re

MAX_NESTING = 128
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(rb"[\[\]{}]")


def nesting_depth(body: bytes) -> int:
    """How deeply arrays and objects nest (strings ignored). Checked before json.loads: py-evm
    raises Python's recursion limit so far that a deep document would overflow the C stack."""
    if body.count(b"[") + body.count(b"{") <= MAX_NESTING:
        return 0
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b"", body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest
