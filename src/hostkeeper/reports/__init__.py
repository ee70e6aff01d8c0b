"""Reports and their building blocks: inline SVG charts and self-contained HTML pages."""
