"""Errors of the API as ``{"error": {"code", "message", "details"}}``, in Bahasa Indonesia.

ServiceErrors are rendered by the web layer's handler (``pengesahan.web``). This module renders
the HTTP errors raised by Flask, webargs/marshmallow (422 with messages per field) and the rate
limit (429, ``ratelimit``) for paths under ``/api/``; other paths keep Flask's default pages.
"""

from __future__ import annotations

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

from pengesahan.errors import ValidationFailed

__all__ = ["ValidationFailed", "handle_http_exception", "translate_messages"]


_CODES = {
    400: ("bad_request", "Permintaan tidak dapat dibaca (mis. JSON tidak sah)."),
    401: ("unauthorized", "Token API diperlukan."),
    404: ("not_found", "Alamat tidak ditemukan."),
    405: ("method_not_allowed", "Metode HTTP ini tidak didukung untuk alamat ini."),
    406: ("not_acceptable", "Format jawaban yang diminta tidak tersedia."),
    413: ("file_too_large", "Berkas terlalu besar. Ukuran maksimum 5 MB."),
    415: ("unsupported_media_type", "Jenis isi permintaan tidak didukung."),
    422: ("validation_failed", "Data tidak sah; lihat rincian per kolom."),
    429: ("rate_limited", "Terlalu banyak permintaan; coba lagi nanti."),
    500: ("internal_error", "Terjadi kesalahan pada server. Coba lagi nanti."),
}

# marshmallow's and webargs' stock messages, in Bahasa Indonesia.
_MESSAGES = {
    "Missing data for required field.": "Wajib diisi.",
    "Unknown field.": "Kolom tidak dikenal.",
    "Field may not be null.": "Tidak boleh null.",
    "Not a valid string.": "Harus berupa teks.",
    "Not a valid integer.": "Harus berupa bilangan bulat.",
    "Not a valid number.": "Harus berupa angka.",
    "Not a valid boolean.": "Harus true atau false.",
    "Not a valid date.": "Bukan tanggal yang sah (format YYYY-MM-DD).",
    "Not a valid datetime.": "Bukan waktu yang sah (format ISO 8601).",
    "Not a valid mapping type.": "Harus berupa objek JSON.",
    "Not a valid list.": "Harus berupa daftar.",
    "Invalid input type.": "Jenis masukan tidak sah.",
    "Invalid input.": "Masukan tidak sah.",
    "Invalid value.": "Nilai tidak sah.",
    "Not a valid file.": "Bukan berkas yang sah.",
    "Invalid JSON body.": "Isi JSON tidak sah.",
}


def translate_messages(messages):
    """Replace the libraries' English messages, keeping the structure (field -> messages)."""
    if isinstance(messages, dict):
        return {key: translate_messages(value) for key, value in messages.items()}
    if isinstance(messages, list | tuple):
        return [translate_messages(value) for value in messages]
    if isinstance(messages, str):
        return _MESSAGES.get(messages, messages)
    return messages


def handle_http_exception(error: HTTPException):
    """JSON for API paths; Flask's own answer for every other page."""
    if not request.path.startswith("/api/"):
        return error
    status = error.code or 500
    code, message = _CODES.get(status, ("error", error.description or "Permintaan gagal."))
    data = getattr(error, "data", None) or {}
    details = translate_messages(data.get("messages") or data.get("errors") or {})
    if status == 429:
        details = {"limit": str(getattr(error, "description", ""))}
    response = jsonify({"error": {"code": code, "message": message, "details": details}})
    response.status_code = status
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response
