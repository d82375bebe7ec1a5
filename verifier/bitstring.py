"""The Bitstring Status List codec (W3C Bitstring Status List v1.0, sections 3.1-3.4).

``encodedList`` is the multibase (``u``, base64url without padding) encoding of the GZIP
compression of the bitstring. Bit 0 is the most significant (left-most) bit of the first
byte (section 3.1: "the first index, with a value of zero, is located at the left-most bit
in the bitstring"). An entry of ``statusSize`` bits is read big-endian from
``index * statusSize``. A list must hold at least :data:`MIN_ENTRIES` (131,072) entries
(section 3.3 "Bitstring Generation Algorithm", herd privacy).

Pure: no I/O. Used by the verifier (:mod:`verifier.status`) and by the issuer to publish lists.

Errors: ``MALFORMED_VALUE_ERROR`` (not multibase base64url, not GZIP, too large once
decompressed), ``STATUS_LIST_LENGTH_ERROR`` (fewer than the minimum entries), ``RANGE_ERROR``
(an index outside the list).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from contexts.errors import MalformedValueError
from keys import multibase

from .errors import RangeError, StatusListLengthError

__all__ = [
    "MAX_LIST_BYTES",
    "MIN_ENTRIES",
    "Bitstring",
    "decode_list",
    "encode_list",
]

#: Minimum number of entries of a list (BSL 1.0 section 3.3; 16 KiB of 1-bit entries).
MIN_ENTRIES = 131_072
#: Largest decompressed list accepted (a 1 MiB cap defeats GZIP bombs; 8M 1-bit entries).
MAX_LIST_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Bitstring:
    """A decoded status bitstring: ``data[0]`` holds bits 0-7, bit 0 its MSB."""

    data: bytes

    @classmethod
    def zeros(cls, entries: int = MIN_ENTRIES, status_size: int = 1) -> Bitstring:
        """An all-zero list of ``entries`` entries of ``status_size`` bits."""
        return cls(bytes(-(-entries * status_size // 8)))

    @property
    def bit_length(self) -> int:
        """Number of bits."""
        return len(self.data) * 8

    def entries(self, status_size: int = 1) -> int:
        """How many entries of ``status_size`` bits the list holds."""
        return self.bit_length // status_size

    def check_length(self, status_size: int = 1) -> None:
        """Raise ``STATUS_LIST_LENGTH_ERROR`` below :data:`MIN_ENTRIES` (BSL 1.0 section 3.2)."""
        if self.entries(status_size) < MIN_ENTRIES:
            raise StatusListLengthError(
                f"The status list holds {self.entries(status_size)} entries; the minimum is "
                f"{MIN_ENTRIES}."
            )

    def get(self, index: int, status_size: int = 1) -> int:
        """The ``status_size``-bit value of entry ``index`` (MSB first). ``RANGE_ERROR`` outside."""
        if status_size < 1:
            raise MalformedValueError("statusSize must be a positive integer")
        start = index * status_size
        if index < 0 or start + status_size > self.bit_length:
            raise RangeError(
                f"Status index {index} is outside the list of {self.entries(status_size)} entries."
            )
        value = 0
        for position in range(start, start + status_size):
            bit = (self.data[position // 8] >> (7 - position % 8)) & 1
            value = (value << 1) | bit
        return value

    def is_set(self, index: int) -> bool:
        """Whether the 1-bit entry ``index`` is set (e.g. revoked)."""
        return self.get(index) == 1

    def with_values(self, values: Iterable[tuple[int, int]], status_size: int = 1) -> Bitstring:
        """A copy with entry ``index`` set to ``value`` for each ``(index, value)``."""
        data = bytearray(self.data)
        for index, value in values:
            start = index * status_size
            if index < 0 or start + status_size > len(data) * 8:
                raise RangeError(f"Status index {index} is outside the list.")
            if value < 0 or value >= 1 << status_size:
                raise MalformedValueError(f"status value {value} does not fit {status_size} bits")
            for offset in range(status_size):
                position = start + offset
                mask = 1 << (7 - position % 8)
                if (value >> (status_size - 1 - offset)) & 1:
                    data[position // 8] |= mask
                else:
                    data[position // 8] &= ~mask & 0xFF
        return Bitstring(bytes(data))

    def with_bits(self, indices: Iterable[int]) -> Bitstring:
        """A copy with the 1-bit entries ``indices`` set."""
        return self.with_values((index, 1) for index in indices)


def encode_list(bits: Bitstring) -> str:
    """``encodedList`` for ``bits``: multibase base64url of GZIP (BSL 1.0 section 3.3).

    The GZIP header's timestamp is zero so encoding is deterministic.
    """
    return multibase.encode(gzip.compress(bits.data, compresslevel=9, mtime=0), "base64url")


def decode_list(encoded: Any, *, max_bytes: int = MAX_LIST_BYTES) -> Bitstring:
    """Decode ``encodedList`` (BSL 1.0 section 3.4 "Bitstring Expansion Algorithm").

    Raises ``MALFORMED_VALUE_ERROR`` when it is not multibase base64url GZIP, or decompresses
    to more than ``max_bytes``. The minimum length is checked by :meth:`Bitstring.check_length`.
    """
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise MalformedValueError(
            "encodedList must be a multibase base64url string (starting with 'u')",
            pointer="/credentialSubject/encodedList",
        )
    compressed = multibase.decode(encoded)
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(compressed, max_bytes + 1)
    except zlib.error as exc:
        raise MalformedValueError(
            f"encodedList is not GZIP data: {exc}", pointer="/credentialSubject/encodedList"
        ) from None
    if len(data) > max_bytes or inflater.unconsumed_tail:
        raise MalformedValueError(
            f"encodedList decompresses to more than {max_bytes} bytes",
            pointer="/credentialSubject/encodedList",
        )
    if not inflater.eof:
        raise MalformedValueError(
            "encodedList is truncated GZIP data", pointer="/credentialSubject/encodedList"
        )
    return Bitstring(data)
