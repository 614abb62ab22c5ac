"""Mail servers, the targeted ``diag mail``: per port reach, greeting, STARTTLS, certificate and
login (``server``), the protocol dialogues over the standard library's clients (``proto``) and
the texts a technician reads (``texts``).
"""
