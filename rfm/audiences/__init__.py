"""Audiences: customers of a labelled list in, the files ad and email platforms import out (plain CSV, Klaviyo,
Mailchimp, Meta Custom Audience, Google Customer Match), with emails and phones normalised and SHA-256 hashed as
each platform documents. Uses: ``rfm.schema`` only (the list's columns).
"""

from rfm._exports import lazy_exports

__all__ = [
    "FORMATS",
    "AudienceFile",
    "audience_file",
    "normalise_email",
    "normalise_phone",
    "sha256_hex",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "FORMATS": "formats",
        "AudienceFile": "formats",
        "audience_file": "formats",
        "normalise_email": "identity",
        "normalise_phone": "identity",
        "sha256_hex": "identity",
    },
)
