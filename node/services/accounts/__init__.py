"""Accounts: sessions, passwords, invitations and members."""
