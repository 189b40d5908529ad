"""The gRPC server: MeetingsService over the store, with auth, errors, health and reflection."""
