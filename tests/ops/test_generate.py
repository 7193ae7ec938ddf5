"""Generated values (password, certificate, rsa, ssh) and the vars store that keeps them."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from boshpipe.ops import Inputs, evaluate
from boshpipe.ops.errors import OpsError, VariableError
from boshpipe.ops.generate import Generators, password
from boshpipe.ops.variables import StaticVariables
from boshpipe.ops.yamlio import load


def test_password_alphabet_and_length() -> None:
    assert len(password(None)) == 20
    generated = password({"length": 8})
    assert len(generated) == 8 and set(generated) <= set("abcdefghijklmnopqrstuvwxyz0123456789")
    with pytest.raises(VariableError, match="'length' param cannot be negative"):
        password({"length": -1})
    with pytest.raises(VariableError, match="parameters are invalid"):
        password("long")


def test_rsa_and_ssh_keys_match() -> None:
    generators = Generators()
    pair = generators.generate("rsa", None)
    key = serialization.load_pem_private_key(pair["private_key"].encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert pair["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    public = serialization.load_pem_public_key(pair["public_key"].encode())
    assert public.public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]

    ssh = generators.generate("ssh", None)
    assert ssh["public_key"].startswith("ssh-rsa ") and ssh["public_key"].endswith("\n")
    blob = base64.b64decode(ssh["public_key"].split()[1])
    assert ssh["public_key_fingerprint"] == ":".join(f"{b:02x}" for b in hashlib.md5(blob).digest())


@pytest.mark.parametrize("kind", ["user", "value", ""])
def test_unsupported_types(kind: str) -> None:
    with pytest.raises(VariableError, match=f"Unsupported value type: {kind}"):
        Generators().generate(kind, None)


def _verify(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    public = issuer.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    assert cert.signature_hash_algorithm is not None
    public.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)


def test_certificate_chain() -> None:
    store = StaticVariables()
    generators = Generators(store)
    ca = generators.generate("certificate", {"is_ca": True, "common_name": "ca", "organization": "Acme"})
    store.set("ca", ca)
    leaf = generators.generate(
        "certificate",
        {
            "ca": "ca",
            "common_name": "db",
            "alternative_names": ["db.internal", "10.0.0.5"],
            "extended_key_usage": ["client_auth"],
            "duration": 30,
        },
    )
    ca_cert = x509.load_pem_x509_certificate(ca["certificate"].encode())
    cert = x509.load_pem_x509_certificate(leaf["certificate"].encode())
    assert leaf["ca"] == ca["certificate"] and ca["ca"] == ca["certificate"]
    _verify(ca_cert, ca_cert)
    _verify(cert, ca_cert)
    assert ca_cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Acme"
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "db"
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["db.internal"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["10.0.0.5"]
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert days == 30
    key = serialization.load_pem_private_key(leaf["private_key"].encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 3072


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"common_name": "x"}, "Missing required CA name"),
        ({"ca": "nope"}, "Loading certificates: Expected to find variable 'nope' with a certificate"),
        ({"is_ca": True, "extended_key_usage": ["code_signing"]}, "Unsupported extended key usage value"),
    ],
)
def test_certificate_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(VariableError, match=message):
        Generators(StaticVariables()).generate("certificate", options)


MANIFEST = "pw: ((pw))\nvariables:\n- name: pw\n  type: password\n"


def test_store_keeps_generated_values(tmp_path: Path) -> None:
    store_path = str(tmp_path / "creds.yml")
    first, store = evaluate(Inputs(manifest=load(MANIFEST), vars_store=store_path))
    assert store is not None
    assert not (tmp_path / "creds.yml").exists()  # nothing written before the caller saves
    store.save()
    assert load((tmp_path / "creds.yml").read_text()) == {"pw": first["pw"]}
    assert (tmp_path / "creds.yml").stat().st_mode & 0o777 == 0o600
    again, _ = evaluate(Inputs(manifest=load(MANIFEST), vars_store=store_path))
    assert again == first


def test_given_value_is_never_generated_nor_stored(tmp_path: Path) -> None:
    store_path = str(tmp_path / "creds.yml")
    doc, store = evaluate(Inputs(manifest=load(MANIFEST), vars={"pw": "given"}, vars_store=store_path))
    assert doc["pw"] == "given"
    assert store is not None
    store.save()
    assert not (tmp_path / "creds.yml").exists()


def test_store_of_the_wrong_shape(tmp_path: Path) -> None:
    (tmp_path / "creds.yml").write_text("- a\n")
    with pytest.raises(OpsError, match=r"Deserializing variables file store .*cannot unmarshal !!seq"):
        evaluate(Inputs(manifest=load(MANIFEST), vars_store=str(tmp_path / "creds.yml")))
