"""The `meetings` console command."""
