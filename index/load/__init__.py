"""Reading corpus files (text, Markdown, HTML, PDF, DOCX) into documents with sections; parsers run capped."""
