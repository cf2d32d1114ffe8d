"""``Idempotency-Key``: a POST repeated with the same key returns the first response.

The key is scoped to the API token; the first successful (2xx) response is kept in Redis for
``TTL`` seconds with a fingerprint of the request, so the same key with another body is a
conflict. While the first request runs, the key holds a short-lived "pending" marker.
"""

from __future__ import annotations

import functools
import hashlib
import json

from flask import Response, make_response, request

from pengesahan.errors import Conflict, ServiceError
from pengesahan.jobs.queue import redis_connection
from pengesahan.web.api.auth import current_token

__all__ = ["HEADER", "TTL", "idempotent"]

HEADER = "Idempotency-Key"
#: How long a stored response is replayed (seconds).
TTL = 24 * 3600
#: How long a request may hold its key before another may try again (seconds).
PENDING_TTL = 120


def _fingerprint() -> str:
    """A hash of what the request asks for, independent of multipart boundaries."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.mimetype == "multipart/form-data":
        for name, value in sorted(request.form.items(multi=True)):
            digest.update(f"form {name}={value}\n".encode())
        for name, file in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            digest.update(f"file {name} {file.filename}\n".encode())
            digest.update(hashlib.sha256(file.stream.read()).digest())
            file.stream.seek(0)
    else:
        raw = request.get_data(cache=True)
        try:
            raw = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
        except ValueError:
            pass
        digest.update(raw)
    return digest.hexdigest()


def _redis_key(key: str) -> str:
    return f"pengesahan:api:idempotency:{current_token().token_hash}:{hashlib.sha256(key.encode()).hexdigest()}"


def idempotent(view):
    """Make a POST view honour the ``Idempotency-Key`` header."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 200:
            raise ServiceError(f"{HEADER} harus 1 sampai 200 karakter.", details={"header": HEADER})
        redis = redis_connection()
        redis_key = _redis_key(key)
        fingerprint = _fingerprint()
        pending = json.dumps({"fingerprint": fingerprint, "pending": True})
        if not redis.set(redis_key, pending, nx=True, ex=PENDING_TTL):
            stored = redis.get(redis_key)
            record = json.loads(stored) if stored else {}
            if record.get("fingerprint") != fingerprint:
                raise Conflict(f"{HEADER} ini sudah dipakai untuk permintaan lain.", details={"header": HEADER})
            if record.get("pending"):
                raise Conflict(f"Permintaan dengan {HEADER} ini masih diproses; coba lagi sebentar.",
                               details={"header": HEADER})
            replay = Response(record["body"], status=record["status"], mimetype=record["mimetype"])
            if record.get("location"):
                replay.headers["Location"] = record["location"]
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            redis.delete(redis_key)
            raise
        if 200 <= response.status_code < 300:
            record = {"fingerprint": fingerprint, "status": response.status_code,
                      "mimetype": response.mimetype, "body": response.get_data(as_text=True),
                      "location": response.headers.get("Location")}
            redis.set(redis_key, json.dumps(record), ex=TTL)
        else:
            redis.delete(redis_key)
        return response

    return wrapper
