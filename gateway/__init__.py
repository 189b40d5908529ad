"""The REST/JSON gateway: legacy URLs and shapes mapped onto MeetingsService RPCs."""
