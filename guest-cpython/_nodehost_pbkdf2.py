"""``hashlib.pbkdf2_hmac`` for the CPython sandbox.

CPython takes PBKDF2 from OpenSSL (``_hashlib``) only; its WASI build has no
OpenSSL, so ``hashlib`` there has no ``pbkdf2_hmac``. This is PBKDF2 as RFC
8018 (section 5.2) defines it, over ``hmac`` with the hash's own
constructor, with CPython's argument checks and messages. It runs the
iterations in Python: about a microsecond and a half each in the sandbox,
against a fraction of that for OpenSSL.
"""

import hashlib
import hmac
import operator

__all__ = ["install"]


def _buffer(value):
    try:
        return bytes(memoryview(value))
    except TypeError:
        raise TypeError("a bytes-like object is required, not '%s'" % type(value).__name__) from None


def pbkdf2_hmac(hash_name, password, salt, iterations, dklen=None):
    """Password based key derivation function 2 (PKCS #5 v2.0) with HMAC as
    pseudorandom function."""
    if not isinstance(hash_name, str):
        raise TypeError("pbkdf2_hmac() argument 'hash_name' must be str, not %s" % type(hash_name).__name__)
    password = _buffer(password)
    salt = _buffer(salt)
    iterations = operator.index(iterations)
    if iterations < 1:
        raise ValueError("iteration value must be greater than 0.")
    try:
        hashlib.new(hash_name)
    except ValueError:
        raise ValueError("unsupported hash type " + hash_name) from None
    start = hmac.new(password, None, lambda data=b"": hashlib.new(hash_name, data))
    size = start.digest_size
    if dklen is None:
        dklen = size
    dklen = operator.index(dklen)
    if dklen < 1:
        raise ValueError("key length must be greater than 0.")
    key = bytearray()
    block = 1
    while len(key) < dklen:
        mac = start.copy()
        mac.update(salt + block.to_bytes(4, "big"))
        u = mac.digest()
        t = int.from_bytes(u, "big")
        for _ in range(iterations - 1):
            mac = start.copy()
            mac.update(u)
            u = mac.digest()
            t ^= int.from_bytes(u, "big")
        key += t.to_bytes(size, "big")
        block += 1
    return bytes(key[:dklen])


def install():
    """Give ``hashlib`` this ``pbkdf2_hmac`` when it has none."""
    if not hasattr(hashlib, "pbkdf2_hmac"):
        pbkdf2_hmac.__module__ = "hashlib"
        hashlib.pbkdf2_hmac = pbkdf2_hmac
        if "pbkdf2_hmac" not in hashlib.__all__:
            hashlib.__all__ = tuple(hashlib.__all__) + ("pbkdf2_hmac",)
