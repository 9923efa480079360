"""Reports: pure functions of the journal (JSON, Markdown, HTML with a timeline, JUnit XML)."""
