"""The P3MI API as a company sees it: a client holding one company's token."""

from __future__ import annotations

from urllib3 import encode_multipart_formdata

from pengesahan.records.base import db

NIK = "6309055708980002"  # Kalimantan Selatan, woman born 17-08-1998
PROFILE = {"nik": NIK, "name": "SITI AMINAH", "sex": "P", "birth_place": "Tanjung",
           "birth_date": "1998-08-17", "marital_status": "belum_kawin", "address": "Jl. Mawar 1, Tanjung",
           "mother_name": "MASRIAH", "emergency_name": "MASRIAH", "emergency_phone": "08123456789"}


class ApiClient:
    """The test client with one company's bearer token."""

    def __init__(self, client, token: str, company_id: int):
        self.client = client
        self.token = token
        self.company_id = company_id

    def _headers(self, headers):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, path, headers=None, **kw):
        return self.client.get(f"/api/v1{path}", headers=self._headers(headers), **kw)

    def post(self, path, headers=None, **kw):
        return self.client.post(f"/api/v1{path}", headers=self._headers(headers), **kw)

    def upload(self, path, data: bytes, name="scan.png", headers=None):
        # The body encoded here, as a client sends it: the test client spools a body over 500 KB
        # to a temporary file of its own, which nobody closes when the server answers 413
        # before reading it (its ResourceWarning then fails whichever test the collector runs in).
        body, content_type = encode_multipart_formdata({"file": (name, data)})
        return self.post(path, headers=headers, data=body, content_type=content_type)


def company_client(client, name):
    from pengesahan.records.people import ApiToken, Company

    with db.connection_context():
        company = Company.create(name=name)
        _, token = ApiToken.issue(company, "integrasi")
    return ApiClient(client, token, company.id)


def error_of(response, status, code=None):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    if code:
        assert body["error"]["code"] == code
    return body["error"]
