"""In-process fakes of the external services Homeward talks to (reusable across test suites)."""
