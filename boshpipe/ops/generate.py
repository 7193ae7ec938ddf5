"""Generated values of the ``variables:`` section, as the bosh CLI's config-server types make them.

* ``password``: ``length`` (default 20) characters of ``[a-z0-9]``;
* ``certificate``: a 3072-bit RSA key (PKCS#1 PEM) and an X.509 certificate with subject
  ``C=US, O=<organization, default Cloud Foundry>, CN=<common_name>``, valid ``duration`` days
  (default 365); a CA (``is_ca``) signs itself unless ``ca`` names another; a leaf needs ``ca``
  and gets ``extended_key_usage`` (``server_auth``/``client_auth``, default server); names in
  ``alternative_names`` become DNS or IP SANs. The value is ``{ca, certificate, private_key}``;
* ``rsa``: a 2048-bit key pair ``{private_key, public_key}`` (PKIX public key PEM);
* ``ssh``: a 2048-bit key ``{private_key, public_key: "ssh-rsa ...\\n",
  public_key_fingerprint: <MD5, colon-separated>}``.

Any other type (``user`` included: the CLI does not generate it) is an error. ``cryptography``
is imported only here and only when a key is made: most runs generate nothing.
"""

from __future__ import annotations

import datetime
import ipaddress
import secrets
import string
from typing import TYPE_CHECKING, Any

from boshpipe.ops.errors import VariableError
from boshpipe.ops.values import clone

if TYPE_CHECKING:
    from boshpipe.ops.variables import Variables

PASSWORD_LENGTH = 20
PASSWORD_ALPHABET = string.ascii_lowercase + string.digits
CERTIFICATE_BITS = 3072
KEY_BITS = 2048
DEFAULT_ORGANIZATION = "Cloud Foundry"
DEFAULT_DAYS = 365


def _params(options: Any, fields: dict[str, type], what: str) -> dict[str, Any]:
    """Options decoded into the generator's parameter struct (yaml.v2 rules, loosely)."""
    if options is None:
        return {}
    if type(options) is not dict:
        raise VariableError(f"Failed to generate {what}, parameters are invalid.")
    params: dict[str, Any] = {}
    for name, kind in fields.items():
        value = options.get(name)
        if value is None:
            continue
        if kind is int and type(value) is float:
            value = int(value)
        if kind is str and type(value) in (int, float, bool):
            value = str(value).lower() if type(value) is bool else str(value)
        if kind is list:
            if type(value) is not list or any(type(item) is not str for item in value):
                raise VariableError(f"Failed to generate {what}, parameters are invalid.")
        elif type(value) is not kind or (kind is int and type(value) is bool):
            raise VariableError(f"Failed to generate {what}, parameters are invalid.")
        params[name] = value
    return params


def password(options: Any) -> str:
    length = _params(options, {"length": int}, "password").get("length", 0)
    if length < 0:
        raise VariableError("Failed to generate password, 'length' param cannot be negative")
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length or PASSWORD_LENGTH))


def _pem_private_key(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()


def _new_key(bits: int) -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def rsa_key(options: Any) -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization

    key = _new_key(KEY_BITS)
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return {"private_key": _pem_private_key(key), "public_key": public}


def ssh_key(options: Any) -> dict[str, str]:
    import base64
    import hashlib

    from cryptography.hazmat.primitives import serialization

    key = _new_key(KEY_BITS)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = base64.b64decode(public.split()[1])
    fingerprint = ":".join(f"{byte:02x}" for byte in hashlib.md5(blob).digest())
    return {
        "private_key": _pem_private_key(key),
        "public_key": public.decode() + "\n",
        "public_key_fingerprint": fingerprint,
    }


class Generators:
    """Makes values by type; certificates find their CA through ``variables`` (all sources)."""

    def __init__(self, variables: Variables | None = None) -> None:
        self.variables = variables

    def generate(self, kind: str, options: Any) -> Any:
        if kind == "password":
            return password(options)
        if kind == "certificate":
            return self.certificate(options)
        if kind == "rsa":
            return rsa_key(options)
        if kind == "ssh":
            return ssh_key(options)
        raise VariableError(f"Unsupported value type: {kind}")

    def load_ca(self, name: str) -> tuple[Any, Any, str]:
        """The CA certificate, key and PEM stored under ``name`` (the CLI's ``VarsCertLoader``)."""
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        from boshpipe.ops.variables import Definition

        value, found = (None, False) if self.variables is None else self.variables.get(Definition(name))
        if not found:
            raise VariableError(f"Expected to find variable '{name}' with a certificate")
        value = clone(value)
        if type(value) is not dict:
            raise VariableError(f"Expected variable '{name}' to be deserializable")
        certificate, private_key = value.get("certificate") or "", value.get("private_key") or ""
        if type(certificate) is not str or "-----BEGIN" not in certificate:
            raise VariableError("Certificate did not contain PEM formatted block")
        try:
            ca = x509.load_pem_x509_certificate(certificate.encode())
        except ValueError as err:
            raise VariableError(f"Parsing certificate: {err}") from None
        if type(private_key) is not str or "-----BEGIN" not in private_key:
            raise VariableError("Private key did not contain PEM formatted block")
        try:
            key = serialization.load_pem_private_key(private_key.encode(), password=None)
        except ValueError as err:
            raise VariableError(f"Parsing private key: {err}") from None
        return ca, key, certificate

    def certificate(self, options: Any) -> dict[str, str]:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        params = _params(
            options,
            {
                "common_name": str,
                "alternative_names": list,
                "is_ca": bool,
                "ca": str,
                "extended_key_usage": list,
                "organization": str,
                "duration": int,
            },
            "certificate",
        )
        is_ca, ca_name = params.get("is_ca", False), params.get("ca", "")
        if not ca_name and not is_ca:
            raise VariableError("Missing required CA name")
        usages = []
        for usage in params.get("extended_key_usage", []):
            if usage == "server_auth":
                usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
            elif usage == "client_auth":
                usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
            else:
                raise VariableError(f"Unsupported extended key usage value: {usage}")
        if not usages and not is_ca:
            usages = [ExtendedKeyUsageOID.SERVER_AUTH]
        signer = None
        if ca_name:
            try:
                signer = self.load_ca(ca_name)
            except VariableError as err:
                raise err.wrap("Loading certificates") from None

        key = _new_key(CERTIFICATE_BITS)
        attributes = [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, params.get("organization") or DEFAULT_ORGANIZATION),
        ]
        if params.get("common_name"):
            attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, params["common_name"]))
        subject = x509.Name(attributes)
        now = datetime.datetime.now(datetime.UTC)
        days = params.get("duration") or DEFAULT_DAYS
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(signer[0].subject if signer else subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=not is_ca,
                content_commitment=False,
                key_encipherment=not is_ca,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=is_ca,
                crl_sign=is_ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        if usages:
            builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        names: list[x509.GeneralName] = []
        for name in params.get("alternative_names", []):
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                names.append(x509.DNSName(name))
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        signing_key = signer[1] if signer else key
        if signer:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False
            )
        certificate = builder.sign(signing_key, hashes.SHA256())
        pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
        return {"ca": signer[2] if signer else pem, "certificate": pem, "private_key": _pem_private_key(key)}
