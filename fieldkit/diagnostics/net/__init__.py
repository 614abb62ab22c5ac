"""The network: interfaces (``nics``), default gateway (``gateway``), name resolution (``dns``),
captive portal (``portal``), and the targeted ``diag reach`` (``reach``). Beside them what they
share: the system resolver's view (``resolve``), the non-blocking connect (``connect``), which hop
to blame (``route``), target parsing (``targets``), the colleague's words for each state
(``reachtext``), the TLS verdict (``tls``) and one plain HTTP GET (``httpget``). The registry
imports every module here; a module without ``@check`` declares nothing and costs one import.
"""
