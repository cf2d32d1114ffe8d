"""Assembly of the office's documents: the ratification page, the ratified agreement, the
passport recommendation.

Pure code: bytes in, bytes out, no Flask, no database. Output is deterministic (same data, same
bytes) so a re-run of a job yields the file already stored and signatures can be reproduced.

Template format
---------------
A template is text the officers edit in the admin. It is rendered in two steps:

1. **Jinja2**, in a sandbox (``SandboxedEnvironment``): ``{{ cpmi.nama }}`` inserts a field
   (the list is :data:`signing.templates.TEMPLATE_FIELDS`), ``{% if %}`` and filters such as
   ``|upper`` work. A field that does not exist is an error naming it, and a template cannot
   reach Python internals. Inserted values are always plain text: a value can never add markup.
2. **A small line markup**, one marker at the start of a line:

   ==================  =======================================================================
   ``! text``          letterhead line (kop surat), bold
   ``!! text``         letterhead line, large bold (the office's name)
   ``!. text``         letterhead line, small (address); a double rule closes the letterhead
   ``# text``          title, centred, bold
   ``## text``         subtitle, centred (e.g. ``Nomor: ...``)
   ``| a | b |``       row of a ruled table; consecutive rows form one table; a row with a
                       single cell is a section heading spanning the table
   ``: a | b``         row of an unruled "label : value" list (letter style)
   ``- text``          list item with hanging indent; a leading ``1.`` or ``a.`` is its label
   ``> text``          a line kept on its own, left aligned (addressee, "di Tempat")
   ``~ text``          footer note, small, at the bottom of the page
   other lines         paragraph text; consecutive lines join into one justified paragraph
   blank line          ends a paragraph, table or list
   ==================  =======================================================================

   Inside any text, ``**bold**`` is bold. Everything else is literal.

The place and date, the signer's lines and the box for the visible signature are not in the
template: they sit at a fixed place at the bottom right of page 1 (:data:`SIGNATURE_BOX`), so
the signing code can rely on the box whatever the officers write. A template whose content does
not fit above them is refused.

PDF/A-2b and its limits are described in :mod:`signing.assemble.pdfa`. The modules, by concern:

- :mod:`signing.assemble.template`: :class:`AgreementData` and the sandboxed Jinja2 step;
- :mod:`signing.assemble.markup`: the line markup, turned into reportlab paragraphs and tables;
- :mod:`signing.assemble.layout`: the page, fitting the text, the signature box geometry;
- :mod:`signing.assemble.pdfa`: PDF/A-2b (embedded fonts, XMP, output intent, page checks);
- :mod:`signing.assemble.letters`: the ratification page and the passport recommendation;
- :mod:`signing.assemble.agreement`: the ratification page followed by the P3MI's pages.
"""

from signing.assemble.agreement import assemble_agreement, pdfa_blockers
from signing.assemble.layout import SIGNATURE_BOX, SIGNATURE_FIELD, SIGNATURE_PAGE
from signing.assemble.letters import render_passport_recommendation, render_ratification_page
from signing.assemble.sanitise import Sanitised, active_content, sanitise
from signing.assemble.sk_record import render_sk_record
from signing.assemble.template import AgreementData, template_context

__all__ = [
    "SIGNATURE_BOX",
    "SIGNATURE_FIELD",
    "SIGNATURE_PAGE",
    "AgreementData",
    "Sanitised",
    "active_content",
    "assemble_agreement",
    "pdfa_blockers",
    "render_passport_recommendation",
    "render_ratification_page",
    "render_sk_record",
    "sanitise",
    "template_context",
]
