#!/usr/bin/env bash
# Debian packages the product uses when present: Tesseract (fast OCR with Indonesian data),
# poppler-utils (pdfsig, an independent signature check), SoftHSM2 (PKCS#11 token in tests),
# Chromium (browser tests). Needs root and apt; does nothing elsewhere.
set -u
packages=(tesseract-ocr tesseract-ocr-ind poppler-utils softhsm2 chromium)
if ! command -v apt-get >/dev/null 2>&1; then echo "system-deps: apt-get tidak ada; dilewati"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "system-deps: bukan root; dilewati"; exit 0; fi
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
