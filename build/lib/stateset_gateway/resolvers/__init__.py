"""The operations: every business rule of the gateway, called by both transports.

Nothing here imports FastAPI or Strawberry. Operations that write open their own transaction
(`Database.writer()`), so a failed mutation leaves no partial write whatever the transport.
"""
