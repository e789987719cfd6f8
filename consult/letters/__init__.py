"""Request letters (要請書): dates, numbering, the letter's parts and its rendering as DOCX."""
