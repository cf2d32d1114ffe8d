"""``python -m pengesahan.translations``: compile the catalogue after editing a ``.po``."""

from pengesahan.translations import compile_catalogues

for path in compile_catalogues():
    print(path)
