"""Helpers for the asymmetric, HMAC, import, data-key-pair, multi-Region and Encryption SDK tests.

- The key-spec tables AWS documents (which usages a KeySpec allows, which algorithms DescribeKey
  lists for it, the digest each signing algorithm uses).
- The openssl CLI as an independent second party: public keys from GetPublicKey are read with
  `openssl pkey -pubin -inform DER`, signatures checked with `openssl dgst -verify` /
  `openssl pkeyutl -verify`, RSA ciphertexts made with `openssl pkeyutl -encrypt`, local key pairs made
  with `openssl genpkey`.
- Key material wrapping for ImportKeyMaterial (RSAES_OAEP_SHA_1/256 and RSA_AES_KEY_WRAP_SHA_1/256),
  with the `cryptography` package or with the openssl CLI.
- Ed25519ph verification (RFC 8032, section 5.1, with the HashEdDSA prefix) and ML-DSA's external mu
  (FIPS 204, section 6.2), which the openssl CLI of the test machine does not offer.
"""
import datetime
import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

import botocore.exceptions
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

# ---------------------------------------------------------------------------------------------
# What AWS documents per KeySpec
# ---------------------------------------------------------------------------------------------

RSA_SPECS = ["RSA_2048", "RSA_3072", "RSA_4096"]
NIST_EC_SPECS = ["ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521"]
ML_DSA_SPECS = ["ML_DSA_44", "ML_DSA_65", "ML_DSA_87"]
HMAC_SPECS = ["HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512"]

RSA_SIGNING = [
    "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
    "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
]
RSA_ENCRYPTION = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]

SIGNING_ALGORITHMS = {
    **{spec: RSA_SIGNING for spec in RSA_SPECS},
    "ECC_NIST_P256": ["ECDSA_SHA_256"],
    "ECC_NIST_P384": ["ECDSA_SHA_384"],
    "ECC_NIST_P521": ["ECDSA_SHA_512"],
    "ECC_SECG_P256K1": ["ECDSA_SHA_256"],
    "ECC_NIST_EDWARDS25519": ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
    **{spec: ["ML_DSA_SHAKE_256"] for spec in ML_DSA_SPECS},
}
ENCRYPTION_ALGORITHMS = {**{spec: RSA_ENCRYPTION for spec in RSA_SPECS}, "SYMMETRIC_DEFAULT": ["SYMMETRIC_DEFAULT"]}
MAC_ALGORITHMS = {spec: ["HMAC_SHA_" + spec.split("_")[1]] for spec in HMAC_SPECS}
KEY_AGREEMENT_ALGORITHMS = {spec: ["ECDH"] for spec in NIST_EC_SPECS}

# CreateKey's KeyUsage documentation: which usages each KeySpec accepts (SM2 is China Regions only).
VALID_USAGES = {
    "SYMMETRIC_DEFAULT": ["ENCRYPT_DECRYPT"],
    **{spec: ["ENCRYPT_DECRYPT", "SIGN_VERIFY"] for spec in RSA_SPECS},
    **{spec: ["SIGN_VERIFY", "KEY_AGREEMENT"] for spec in NIST_EC_SPECS},
    "ECC_SECG_P256K1": ["SIGN_VERIFY"],
    "ECC_NIST_EDWARDS25519": ["SIGN_VERIFY"],
    **{spec: ["SIGN_VERIFY"] for spec in ML_DSA_SPECS},
    **{spec: ["GENERATE_VERIFY_MAC"] for spec in HMAC_SPECS},
}
ALL_USAGES = ["ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"]
INVALID_COMBINATIONS = [(spec, usage) for spec, ok in VALID_USAGES.items() for usage in ALL_USAGES if usage not in ok]

ALGORITHM_FIELDS = {
    "ENCRYPT_DECRYPT": ("EncryptionAlgorithms", ENCRYPTION_ALGORITHMS),
    "SIGN_VERIFY": ("SigningAlgorithms", SIGNING_ALGORITHMS),
    "GENERATE_VERIFY_MAC": ("MacAlgorithms", MAC_ALGORITHMS),
    "KEY_AGREEMENT": ("KeyAgreementAlgorithms", KEY_AGREEMENT_ALGORITHMS),
}


def expected_algorithms(spec, usage):
    """(field, sorted list) of the algorithm list DescribeKey/GetPublicKey show for this key."""
    field, table = ALGORITHM_FIELDS[usage]
    return field, sorted(table[spec])


# The hash each signing algorithm applies (Sign's documentation: "Signing algorithms that end in
# SHA_256 use the SHA_256 hashing algorithm", ...).
def digest_name(algorithm):
    for bits in ("256", "384", "512"):
        if algorithm.endswith("SHA_" + bits):
            return "sha" + bits
    raise ValueError(algorithm)


def digest(algorithm, message):
    return hashlib.new(digest_name(algorithm), message).digest()


# Openssl's names for the curves of each spec (as `openssl pkey -text` prints them).
CURVE_NAMES = {
    "ECC_NIST_P256": ("prime256v1", "P-256"),
    "ECC_NIST_P384": ("secp384r1", "P-384"),
    "ECC_NIST_P521": ("secp521r1", "P-521"),
    "ECC_SECG_P256K1": ("secp256k1", "secp256k1"),
}
GENPKEY_ARGS = {
    "RSA_2048": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    "RSA_3072": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
    "RSA_4096": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096"],
    "ECC_NIST_P256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "ECC_NIST_P384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    "ECC_NIST_P521": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
    "ECC_SECG_P256K1": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"],
    "ECC_NIST_EDWARDS25519": ["-algorithm", "ED25519"],
}


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

def client_error(fn, codes=None, **kwargs):
    """Calls fn(**kwargs); asserts it fails with a 4xx AWS error (one of `codes` if given); returns the code.

    For refusals whose error name AWS does not spell out: any client error, but never a 5xx.
    """
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kwargs)
    response = e.value.response
    status = response["ResponseMetadata"]["HTTPStatusCode"]
    code = response["Error"]["Code"]
    assert 400 <= status < 500, response
    if codes is not None:
        assert code in codes, response
    return code


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


# ---------------------------------------------------------------------------------------------
# The openssl CLI
# ---------------------------------------------------------------------------------------------

def openssl(*args, input=None, check=True):
    """Runs `openssl ARGS`; returns the CompletedProcess (bytes)."""
    proc = subprocess.run(["openssl", *args], input=input, capture_output=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed ({proc.returncode}): {proc.stderr.decode()}")
    return proc


class Files:
    """A temporary directory that writes bytes to named files."""

    def __enter__(self):
        self._dir = tempfile.TemporaryDirectory(prefix="m2sec-kms-")
        self.path = Path(self._dir.name)
        return self

    def __exit__(self, *exc):
        self._dir.cleanup()

    def put(self, name, data):
        p = self.path / name
        p.write_bytes(data)
        return str(p)

    def get(self, name):
        return (self.path / name).read_bytes()


def public_key_pem(der):
    """GetPublicKey's DER (SubjectPublicKeyInfo) as PEM, converted by `openssl pkey -pubin -inform DER`."""
    return openssl("pkey", "-pubin", "-inform", "DER", "-outform", "PEM", input=der).stdout


def public_key_text(der):
    return openssl("pkey", "-pubin", "-inform", "DER", "-text", "-noout", input=der).stdout.decode()


def assert_public_key_matches_spec(der, spec):
    """The SPKI DER parses with openssl and is a key of the type and size `spec` names."""
    text = public_key_text(der)
    if spec.startswith("RSA_"):
        bits = spec.split("_")[1]
        assert f"Public-Key: ({bits} bit)" in text, text
    elif spec in CURVE_NAMES:
        oid, nist = CURVE_NAMES[spec]
        assert oid in text or nist in text, text
    elif spec == "ECC_NIST_EDWARDS25519":
        assert "ED25519 Public-Key" in text, text
    else:
        raise ValueError(spec)


def openssl_verify(public_der, message, signature, algorithm):
    """Verifies a KMS signature over `message` with the openssl CLI and GetPublicKey's DER.

    RSA PKCS#1 v1.5, RSA PSS (MGF1 with the same hash, salt length = digest length) and ECDSA with
    `openssl dgst -verify`; Ed25519 (pure) with `openssl pkeyutl -verify -rawin`.
    """
    with Files() as f:
        pem = f.put("pub.pem", public_key_pem(public_der))
        msg = f.put("msg.bin", message)
        sig = f.put("sig.bin", signature)
        if algorithm == "ED25519_SHA_512":
            proc = openssl("pkeyutl", "-verify", "-pubin", "-inkey", pem, "-rawin", "-in", msg, "-sigfile", sig,
                           check=False)
            return proc.returncode == 0 and b"Signature Verified Successfully" in proc.stdout
        md = digest_name(algorithm)
        args = ["dgst", "-" + md, "-verify", pem, "-signature", sig]
        if algorithm.startswith("RSASSA_PSS"):
            salt = str(hashlib.new(md).digest_size)
            args += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", f"rsa_pss_saltlen:{salt}",
                     "-sigopt", f"rsa_mgf1_md:{md}"]
        proc = openssl(*args, msg, check=False)
        return proc.returncode == 0 and b"Verified OK" in proc.stdout


def _oaep_md(algorithm):
    return {"RSAES_OAEP_SHA_1": "sha1", "RSAES_OAEP_SHA_256": "sha256",
            "RSA_AES_KEY_WRAP_SHA_1": "sha1", "RSA_AES_KEY_WRAP_SHA_256": "sha256"}[algorithm]


def openssl_encrypt(public_der, plaintext, algorithm):
    """RSAES_OAEP_SHA_1/256 (MGF1 with the same hash, no label) with `openssl pkeyutl -encrypt`."""
    md = _oaep_md(algorithm)
    with Files() as f:
        pem = f.put("pub.pem", public_key_pem(public_der))
        return openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", pem, "-pkeyopt", "rsa_padding_mode:oaep",
                       "-pkeyopt", f"rsa_oaep_md:{md}", "-pkeyopt", f"rsa_mgf1_md:{md}", input=plaintext).stdout


def openssl_decrypt(private_der, ciphertext, algorithm):
    """RSAES_OAEP_SHA_1/256 decryption with a local PKCS#8 DER private key (`openssl pkeyutl -decrypt`)."""
    md = _oaep_md(algorithm)
    with Files() as f:
        key = f.put("key.der", private_der)
        return openssl("pkeyutl", "-decrypt", "-inkey", key, "-keyform", "DER", "-pkeyopt", "rsa_padding_mode:oaep",
                       "-pkeyopt", f"rsa_oaep_md:{md}", "-pkeyopt", f"rsa_mgf1_md:{md}", input=ciphertext).stdout


def openssl_sign(private_der, message, algorithm):
    """A signature made locally with `openssl dgst -sign` (RSA/ECDSA) or `pkeyutl -sign -rawin` (Ed25519)."""
    with Files() as f:
        key = f.put("key.der", private_der)
        msg = f.put("msg.bin", message)
        if algorithm == "ED25519_SHA_512":
            return openssl("pkeyutl", "-sign", "-inkey", key, "-keyform", "DER", "-rawin", "-in", msg).stdout
        md = digest_name(algorithm)
        args = ["dgst", "-" + md, "-sign", key, "-keyform", "DER"]
        if algorithm.startswith("RSASSA_PSS"):
            args += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", f"rsa_pss_saltlen:{hashlib.new(md).digest_size}"]
        return openssl(*args, msg).stdout


def genpkey(spec):
    """A local key pair from `openssl genpkey`: (PKCS#8 DER private key, SPKI DER public key).

    `genpkey -outform DER` writes RSA and EC keys in their traditional form (RSAPrivateKey, SEC1
    ECPrivateKey); `openssl pkcs8 -topk8 -nocrypt` makes the PrivateKeyInfo that KMS imports.
    """
    pem = openssl("genpkey", *GENPKEY_ARGS[spec]).stdout
    private = openssl("pkcs8", "-topk8", "-nocrypt", "-outform", "DER", input=pem).stdout
    return private, public_from_private(private)


def public_from_private(private_der):
    """The SPKI DER of a PKCS#8 DER private key, by `openssl pkey -inform DER -pubout`."""
    return openssl("pkey", "-inform", "DER", "-pubout", "-outform", "DER", input=private_der).stdout


def openssl_derive(private_der, peer_public_der):
    """ECDH with `openssl pkeyutl -derive`: the raw shared secret (the x coordinate)."""
    with Files() as f:
        key = f.put("key.der", private_der)
        peer = f.put("peer.pem", public_key_pem(peer_public_der))
        return openssl("pkeyutl", "-derive", "-inkey", key, "-keyform", "DER", "-peerkey", peer).stdout


# ---------------------------------------------------------------------------------------------
# Key material wrapping for ImportKeyMaterial
# ---------------------------------------------------------------------------------------------

def _oaep(algorithm):
    h = hashes.SHA1() if _oaep_md(algorithm) == "sha1" else hashes.SHA256()
    return padding.OAEP(mgf=padding.MGF1(algorithm=h), algorithm=h, label=None)


def wrap_key_material(wrapping_public_der, material, algorithm):
    """Wraps key material as GetParametersForImport's WrappingAlgorithm says, with `cryptography`.

    RSAES_OAEP_SHA_*: the material encrypted directly with the wrapping key (OAEP, MGF1 with the same
    hash). RSA_AES_KEY_WRAP_SHA_*: a fresh 256-bit AES key wraps the material (AES key wrap with
    padding, RFC 5649); the AES key is OAEP-encrypted with the wrapping key; the two are concatenated
    (RSA part first).
    """
    public = serialization.load_der_public_key(wrapping_public_der)
    if algorithm.startswith("RSAES_OAEP"):
        return public.encrypt(material, _oaep(algorithm))
    if algorithm.startswith("RSA_AES_KEY_WRAP"):
        aes = os.urandom(32)
        return public.encrypt(aes, _oaep(algorithm)) + aes_key_wrap_with_padding(aes, material)
    raise ValueError(algorithm)


def wrap_key_material_openssl(wrapping_public_der, material, algorithm):
    """The same wrapping with the openssl CLI (`pkeyutl -encrypt` OAEP, `enc -id-aes256-wrap-pad`)."""
    if algorithm.startswith("RSAES_OAEP"):
        return openssl_encrypt(wrapping_public_der, material, algorithm)
    aes = os.urandom(32)
    with Files() as f:
        src = f.put("material.bin", material)
        out = str(f.path / "wrapped.bin")
        openssl("enc", "-id-aes256-wrap-pad", "-K", aes.hex(), "-iv", "A65959A6", "-in", src, "-out", out)
        wrapped = f.get("wrapped.bin")
    return openssl_encrypt(wrapping_public_der, aes, algorithm) + wrapped


def import_key_material(kms, key_id, material, algorithm="RSAES_OAEP_SHA_256", wrapping_spec="RSA_2048",
                        cli=False, **kwargs):
    """GetParametersForImport, wrap, ImportKeyMaterial; returns (import response, parameters).

    kwargs go to ImportKeyMaterial; without ExpirationModel/ValidTo the material does not expire.
    """
    params = kms.get_parameters_for_import(KeyId=key_id, WrappingAlgorithm=algorithm, WrappingKeySpec=wrapping_spec)
    wrap = wrap_key_material_openssl if cli else wrap_key_material
    encrypted = wrap(params["PublicKey"], material, algorithm)
    if "ExpirationModel" not in kwargs and "ValidTo" not in kwargs:
        kwargs["ExpirationModel"] = "KEY_MATERIAL_DOES_NOT_EXPIRE"
    out = kms.import_key_material(KeyId=key_id, ImportToken=params["ImportToken"], EncryptedKeyMaterial=encrypted,
                                  **kwargs)
    return out, params


# ---------------------------------------------------------------------------------------------
# Ed25519ph (RFC 8032) and ML-DSA external mu (FIPS 204)
# ---------------------------------------------------------------------------------------------

_P = 2 ** 255 - 19
_L = 2 ** 252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _recover_x(y, sign):
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _point_add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _point_mul(s, p):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _point_add(q, p)
        p = _point_add(p, p)
        s >>= 1
    return q


def _point_equal(p, q):
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_GY = 4 * pow(5, _P - 2, _P) % _P
_G = (_recover_x(_GY, 0), _GY, 1, _recover_x(_GY, 0) * _GY % _P)


def ed25519ph_verify(public_raw, message, signature, context=b""):
    """Ed25519ph verification (RFC 8032 5.1.7 with phflag 1): PH(M) = SHA-512(M)."""
    if len(public_raw) != 32 or len(signature) != 64:
        return False
    a = _decompress(public_raw)
    r = _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    dom = b"SigEd25519 no Ed25519 collisions" + bytes([1, len(context)]) + context
    k = int.from_bytes(hashlib.sha512(dom + signature[:32] + public_raw + hashlib.sha512(message).digest()).digest(),
                       "little") % _L
    return _point_equal(_point_mul(s, _G), _point_add(r, _point_mul(k, a)))


def raw_public_key(spki_der):
    """The raw public key bytes (Ed25519: 32 bytes; ML-DSA: the encoded key) of an SPKI DER."""
    key = serialization.load_der_public_key(spki_der)
    return key.public_bytes_raw()


def mldsa_external_mu(public_raw, message, context=b""):
    """mu = SHAKE256(tr || M', 64), tr = SHAKE256(pk, 64), M' = 0x00 || len(ctx) || ctx || M (pure ML-DSA)."""
    tr = hashlib.shake_256(public_raw).digest(64)
    return hashlib.shake_256(tr + bytes([0, len(context)]) + context + message).digest(64)


def mldsa_verify(spki_der, message, signature):
    """Pure ML-DSA verification (empty context) with `cryptography`."""
    key = serialization.load_der_public_key(spki_der)
    try:
        key.verify(signature, message)
        return True
    except Exception:  # cryptography.exceptions.InvalidSignature
        return False


class KeyCache:
    """Module-scoped KMS keys created on first use: one key per (KeySpec, KeyUsage, extra options)."""

    def __init__(self, kms):
        self.kms = kms
        self._keys = {}

    def get(self, spec, usage, tag="", **kwargs):
        """The key of this spec and usage; another `tag` gives another key of the same kind."""
        cache_key = (spec, usage, tag, tuple(sorted(kwargs.items())))
        if cache_key not in self._keys:
            self._keys[cache_key] = self.kms.create_key(
                KeySpec=spec, KeyUsage=usage, Description=f"e2e {spec} {usage} {tag}".strip(), **kwargs)["KeyMetadata"]
        return self._keys[cache_key]
