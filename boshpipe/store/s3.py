"""The artifact store on S3 (AWS, MinIO, Ceph...) through boto3: what teams run in production.

Credentials and endpoint come from boto3's own chain (``AWS_PROFILE``, ``AWS_ACCESS_KEY_ID``...,
``AWS_ENDPOINT_URL_S3``, instance roles): boshpipe never reads or stores a secret itself.

Safety:

- ``create`` is ``PutObject`` with ``If-None-Match: *``; ``replace`` is ``PutObject`` with
  ``If-Match: <etag>``. Large objects go through a multipart upload whose *completion* carries
  ``If-None-Match: *``: parts are invisible until then, so no reader ever sees a partial object.
  An upload that fails is aborted (best effort; a bucket lifecycle rule
  ``AbortIncompleteMultipartUpload`` reclaims parts left by a killed process).
- Two clients share one session. Reads, lists and part uploads are idempotent and use botocore's
  ``standard`` retry mode (throttling, 5xx, connection errors, with backoff). Conditional writes go
  through a client without automatic retries and a loop of our own: a write that *lost* its race
  (412) is reported at once, never retried; a write that hit throttling, a 5xx, a 409
  ``ConditionalRequestConflict`` or a dropped connection is sent again with the same condition, so
  the server re-checks it. If such a retried write then gets 412, the object is read back: when it
  holds exactly our bytes, our first attempt landed and the write succeeded.
- Short connect timeout and bounded attempts: an unreachable endpoint fails within seconds.
"""

from __future__ import annotations

import contextlib
import random
import re
import sys
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from boshpipe.errors import AlreadyExists, NotFound, PreconditionFailed, StoreError
from boshpipe.store.local import check_key
from boshpipe.store.protocol import Blob

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MiB = 1024 * 1024

ProgressHook = Callable[[str, int, int], None]
"""Called as ``hook(key, bytes_done, bytes_total)`` after each part of a multipart transfer."""

_CREDENTIAL_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "TokenRefreshRequired",
    "InvalidClientTokenId",
}
_CREDENTIAL_SOURCES = {
    "env": "the AWS_ACCESS_KEY_ID environment variables",
    "shared-credentials-file": "the shared credentials file (AWS_PROFILE)",
    "config-file": "the AWS config file (AWS_PROFILE)",
    "iam-role": "the instance's IAM role",
    "container-role": "the container's IAM role",
    "assume-role": "an assumed role (AWS_PROFILE)",
    "sso": "AWS SSO (AWS_PROFILE)",
}
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")  # S3's bucket naming rules
_IPV4 = re.compile(r"\d+\.\d+\.\d+\.\d+")
_THROTTLE_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests"}
_NETWORK_ERRORS = (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError, ReadTimeoutError)


class S3Store:
    """An :class:`~boshpipe.store.ArtifactStore` on ``s3://bucket/prefix``."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        session: boto3.session.Session | None = None,
        multipart_threshold: int = 16 * MiB,
        part_size: int = 8 * MiB,
        connect_timeout: float = 2.0,
        read_timeout: float = 30.0,
        max_attempts: int = 3,
        progress: ProgressHook | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.max_attempts = max_attempts
        self._progress = progress
        try:
            self._session = session or boto3.session.Session()
        except ProfileNotFound as err:
            raise StoreError(
                f"AWS profile {err.kwargs.get('profile')!r} not found (for {self.describe()}):"
                " fix AWS_PROFILE or add the profile to ~/.aws/config"
            ) from err
        region = self._session.region_name or "us-east-1"

        def client(attempts: int) -> S3Client:
            config = Config(
                region_name=region,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"mode": "standard", "total_max_attempts": attempts},
            )
            return self._session.client("s3", config=config)

        # Idempotent calls: botocore retries them. Conditional writes: only our own loop does.
        try:
            self._retrying = client(max_attempts)
            self._single = client(1)
        except ValueError as err:  # botocore: "Invalid endpoint: ..."
            raise StoreError(
                f"S3 endpoint for {self.describe()} is not a URL ({err}): fix AWS_ENDPOINT_URL_S3 / "
                "AWS_ENDPOINT_URL (e.g. http://127.0.0.1:9000) or unset it"
            ) from None

    @classmethod
    def from_url(cls, url: str, **options: Any) -> S3Store:
        """``s3://bucket`` or ``s3://bucket/some/prefix``."""
        if not url.startswith("s3://") or not url[5:].split("/", 1)[0]:
            raise StoreError(f"invalid S3 store {url!r}: expected s3://bucket or s3://bucket/prefix")
        bucket, _, prefix = url[5:].partition("/")
        if not _BUCKET.fullmatch(bucket) or ".." in bucket or _IPV4.fullmatch(bucket):
            raise StoreError(
                f"invalid S3 store {url!r}: {bucket!r} is not a valid bucket name (3 to 63 lowercase letters, "
                "digits, '.' and '-', starting and ending with a letter or digit)"
            )
        return cls(bucket, prefix, **options)

    @property
    def clients(self) -> tuple[S3Client, S3Client]:
        """Both boto3 clients, for callers that hook their events (request counting in bench/)."""
        return (self._retrying, self._single)

    @property
    def endpoint(self) -> str:
        return str(self._retrying.meta.endpoint_url)

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    # -- reads ---------------------------------------------------------------------------------

    def get(self, key: str) -> Blob:
        full = self._full(key)
        try:
            response = self._retrying.get_object(Bucket=self.bucket, Key=full)
            total = int(response.get("ContentLength", 0))
            body = response["Body"]
            if total < self.multipart_threshold:
                data = body.read()
            else:
                chunks: list[bytes] = []
                display = _Progress(f"downloading {full}", total)
                for chunk in body.iter_chunks(chunk_size=self.part_size):
                    chunks.append(chunk)
                    display.advance(len(chunk))
                display.close()
                data = b"".join(chunks)
        except (ClientError, BotoCoreError) as err:
            self._raise(err, "read", key)
        return Blob(data=data, etag=_unquote(response["ETag"]), metadata=dict(response.get("Metadata", {})))

    def exists(self, key: str) -> bool:
        try:
            self._retrying.head_object(Bucket=self.bucket, Key=self._full(key))
        except ClientError as err:
            if _status(err) == 404 and _code(err) in {"404", "NoSuchKey", "NotFound"}:
                return False
            self._raise(err, "check", key)
        except BotoCoreError as err:
            self._raise(err, "check", key)
        return True

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[str]:
        options: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix + prefix}
        if start_after:
            options["StartAfter"] = self.prefix + start_after
        try:
            for page in self._retrying.get_paginator("list_objects_v2").paginate(**options):
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.prefix) :]
        except (ClientError, BotoCoreError) as err:
            self._raise(err, "list", prefix or "/")

    # -- writes --------------------------------------------------------------------------------

    def create(self, key: str, data: bytes, metadata: dict[str, str] | None = None) -> str:
        full = self._full(key)
        if len(data) >= self.multipart_threshold:
            return self._create_multipart(key, data, metadata or {})
        return self._conditional(
            "create",
            key,
            data,
            lambda: self._single.put_object(
                Bucket=self.bucket, Key=full, Body=data, Metadata=metadata or {}, IfNoneMatch="*"
            )["ETag"],
        )

    def replace(self, key: str, data: bytes, etag: str, metadata: dict[str, str] | None = None) -> str:
        full = self._full(key)
        return self._conditional(
            "replace",
            key,
            data,
            lambda: self._single.put_object(
                Bucket=self.bucket, Key=full, Body=data, Metadata=metadata or {}, IfMatch=_quote(etag)
            )["ETag"],
        )

    def delete(self, key: str, etag: str | None = None) -> None:
        """Delete, conditionally when ``etag`` is given (S3 ``If-Match`` on DeleteObject).

        The ledger never relies on conditional deletes (locks are released by a compare-and-swap
        write), because not every S3-compatible server implements them.
        """
        options: dict[str, Any] = {"Bucket": self.bucket, "Key": self._full(key)}
        if etag is not None:
            options["IfMatch"] = _quote(etag)
        try:
            self._retrying.delete_object(**options)
        except ClientError as err:
            if _status(err) == 404 and _code(err) == "NoSuchKey":
                return
            if _status(err) == 412:
                raise PreconditionFailed(f"{key} in {self.describe()} was changed by someone else") from None
            self._raise(err, "delete", key)
        except BotoCoreError as err:
            self._raise(err, "delete", key)

    # -- internals -----------------------------------------------------------------------------

    def _full(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _create_multipart(self, key: str, data: bytes, metadata: dict[str, str]) -> str:
        full = self._full(key)
        try:
            upload_id = self._retrying.create_multipart_upload(Bucket=self.bucket, Key=full, Metadata=metadata)[
                "UploadId"
            ]
        except (ClientError, BotoCoreError) as err:
            self._raise(err, "create", key)
        completed = False
        try:
            parts: list[dict[str, Any]] = []
            display = _Progress(f"uploading {full}", len(data))
            for number, offset in enumerate(range(0, len(data), self.part_size), start=1):
                chunk = data[offset : offset + self.part_size]
                try:
                    part = self._retrying.upload_part(
                        Bucket=self.bucket, Key=full, UploadId=upload_id, PartNumber=number, Body=chunk
                    )
                except (ClientError, BotoCoreError) as err:
                    self._raise(err, "create", key)
                parts.append({"ETag": part["ETag"], "PartNumber": number})
                display.advance(len(chunk))
                if self._progress is not None:
                    self._progress(key, offset + len(chunk), len(data))
            display.close()
            etag = self._conditional(
                "create",
                key,
                data,
                lambda: str(
                    self._single.complete_multipart_upload(
                        Bucket=self.bucket,
                        Key=full,
                        UploadId=upload_id,
                        MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
                        IfNoneMatch="*",
                    )["ETag"]
                ),
            )
            completed = True
            return etag
        finally:
            if not completed:
                self._abort(full, upload_id)

    def _abort(self, full: str, upload_id: str) -> None:
        """Best effort: the upload already failed, and its parts are invisible either way."""
        with contextlib.suppress(ClientError, BotoCoreError):
            self._single.abort_multipart_upload(Bucket=self.bucket, Key=full, UploadId=upload_id)

    def _conditional(self, kind: str, key: str, data: bytes, call: Callable[[], str]) -> str:
        """Run a conditional write; retry only what provably did not lose the race (see module doc)."""
        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            try:
                return _unquote(call())
            except ClientError as err:
                status, code = _status(err), _code(err)
                if status == 412 or code == "PreconditionFailed":
                    if attempt > 1 and self._holds(key, data):
                        return self._etag(key)
                    if kind == "create":
                        raise AlreadyExists(f"{key} already exists in {self.describe()}") from None
                    raise PreconditionFailed(f"{key} in {self.describe()} was changed by someone else") from None
                if kind == "replace" and status == 404 and code == "NoSuchKey":
                    raise PreconditionFailed(f"{key} in {self.describe()} was deleted by someone else") from None
                transient = status == 409 or status >= 500 or code in _THROTTLE_CODES
                if not transient or last:
                    self._raise(err, "write", key, attempts=attempt)
            except _NETWORK_ERRORS as err:
                if last:
                    self._raise(err, "write", key, attempts=attempt)
            except BotoCoreError as err:
                self._raise(err, "write", key)
            time.sleep(min(2.0, 0.1 * 2**attempt) * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _holds(self, key: str, data: bytes) -> bool:
        try:
            return self.get(key).data == data
        except NotFound:
            return False

    def _etag(self, key: str) -> str:
        try:
            response = self._retrying.head_object(Bucket=self.bucket, Key=self._full(key))
        except (ClientError, BotoCoreError) as err:
            self._raise(err, "check", key)
        return _unquote(response["ETag"])

    def _raise(self, err: Exception, action: str, key: str, attempts: int | None = None) -> NoReturn:
        """Turn a boto failure into the one line a person can act on (never a credential)."""
        where = f"s3://{self.bucket}/{self.prefix}{key}"
        endpoint = self.endpoint
        if isinstance(err, ClientError):
            status, code = _status(err), _code(err)
            if code == "NoSuchBucket":
                raise StoreError(
                    f"S3 bucket {self.bucket!r} does not exist at {endpoint}: create it, or point"
                    " BOSHPIPE_STORE (or the store setting) at an existing bucket"
                ) from None
            if code in {"NoSuchKey", "404", "NotFound"}:
                raise NotFound(f"{key} not found in {self.describe()}") from None
            if code in _CREDENTIAL_CODES:
                raise StoreError(
                    f"S3 at {endpoint} rejected the credentials ({code}, credentials from"
                    f" {self._credential_source()}): check AWS_PROFILE or AWS_ACCESS_KEY_ID /"
                    " AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN"
                ) from None
            if code == "AccessDenied" or status == 403:
                # A HEAD's 403 has no body: it may also be rejected credentials.
                denied = "access denied" if code == "AccessDenied" else "access denied (or credentials rejected)"
                raise StoreError(
                    f"{denied}: cannot {action} {where} at {endpoint} with the credentials from"
                    f" {self._credential_source()}; grant them access to the bucket or use other"
                    " credentials (AWS_PROFILE)"
                ) from None
            if status >= 500 or code in _THROTTLE_CODES or status == 409:
                tries = attempts or self.max_attempts
                raise StoreError(
                    f"S3 at {endpoint} failed to {action} {where}: {status} {code} after {tries}"
                    " attempt(s); the service is unavailable or throttling, run the command again later"
                ) from None
            message = err.response.get("Error", {}).get("Message", "")
            raise StoreError(f"S3 refused to {action} {where} at {endpoint}: {status} {code} {message}") from None
        if isinstance(err, NoCredentialsError | PartialCredentialsError):
            raise StoreError(
                f"no usable AWS credentials for {self.describe()}: set AWS_PROFILE, or"
                " AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            ) from None
        if isinstance(err, _NETWORK_ERRORS):
            raise StoreError(
                f"cannot reach the S3 endpoint {endpoint} to {action} {where}"
                f" ({type(err).__name__}): check AWS_ENDPOINT_URL_S3 and the network, then run again"
            ) from None
        raise StoreError(f"S3 failed to {action} {where} at {endpoint}: {err}") from None

    def _credential_source(self) -> str:
        try:
            credentials = self._session.get_credentials()
        except BotoCoreError:
            return "an unreadable configuration"
        if credentials is None:
            return "nowhere"
        return _CREDENTIAL_SOURCES.get(credentials.method, credentials.method)


class _Progress:
    """A one-line transfer display on stderr, shown only when stderr is a terminal (never in CI logs)."""

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = max(total, 1)
        self.done = 0
        self.enabled = sys.stderr.isatty()

    def advance(self, amount: int) -> None:
        self.done += amount
        if self.enabled:
            percent = 100 * self.done // self.total
            sys.stderr.write(f"\r{self.label}: {percent:3d}% ({self.done / MiB:.1f}/{self.total / MiB:.1f} MiB)")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _status(err: ClientError) -> int:
    return int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _quote(etag: str) -> str:
    return etag if etag.startswith('"') else f'"{etag}"'


def _unquote(etag: str) -> str:
    return etag.strip('"')
