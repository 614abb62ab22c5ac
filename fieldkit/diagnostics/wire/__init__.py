"""Wire formats in the standard library only: IPP (``ipp``, RFC 8010) and DNS (``dns``: the
resolver configuration and one query). Codecs, not checks: the registry does not scan this
package, and the domain modules import what they need from it.
"""
