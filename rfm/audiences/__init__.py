"""Audiences: customers of a labelled list in, the files ad and email platforms import out (plain CSV, Klaviyo,
Mailchimp, Meta Custom Audience, Google Customer Match), with emails and phones normalised and SHA-256 hashed as
each platform documents (``formats``, ``identity``). From a published run: the customers of chosen segments and of a
movement since the previous run (``selection``), a seeded random control group and the later comparison of the
contacted and held-back customers (``control``), and the workflow the Audiences page and ``rfm audience`` share
(``campaign``). Uses: ``rfm.schema``, and ``rfm.workspace`` for published runs.
"""

from rfm._exports import lazy_exports

__all__ = [
    "FORMATS",
    "MOVEMENTS",
    "AudienceFile",
    "audience_file",
    "compare_groups",
    "hold_out",
    "normalise_email",
    "normalise_phone",
    "select_audience",
    "sha256_hex",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "FORMATS": "formats",
        "MOVEMENTS": "selection",
        "compare_groups": "control",
        "hold_out": "control",
        "select_audience": "selection",
        "AudienceFile": "formats",
        "audience_file": "formats",
        "normalise_email": "identity",
        "normalise_phone": "identity",
        "sha256_hex": "identity",
    },
)
