"""Consortium governance from a city's side: proposals and votes signed with the city's ADMIN key,
sent to any node over JSON-RPC (`govchain consortium ...`)."""
