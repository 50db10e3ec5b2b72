"""The hotline: Saldo answers each operator's hotline number over SIP (docs/hotline.md).

``call`` is the seam between the two halves: the SIP endpoint (``sip``: signalling, RTP, DTMF,
playing and transferring) and the dialogue (``dialogue``: what is said and which use case a
key calls). The endpoint knows nothing of lines or money; the dialogue nothing of SIP.
"""
