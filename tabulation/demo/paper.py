"""A generated photo of a polling board's record, for the simulated night's
scans (tabulation/demo/night.py): a small PNG that looks like a form, with
the station's code and the record's figures written on it.

Made with Pillow's built-in font, so the same record gives the same bytes
(the night is the same for the same seed) and no font file is needed.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from tabulation.demo.plan import Paper
from tabulation.domain.record import COUNT_FIELDS

WIDTH, HEIGHT = 320, 440
MARGIN, LINE = 16, 16
PAPER_COLOUR = (246, 243, 234)  # a slightly yellow sheet, as photographed
INK = (30, 40, 90)
RULE = (180, 180, 190)


def record_photo(code: str, paper: Paper) -> bytes:
    """The record of ``code`` as a PNG: a heading, one ruled line a field,
    then a line a list's votes, and the board's signatures at the foot."""
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER_COLOUR)
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, WIDTH - 5, HEIGHT - 5), outline=RULE, width=2)
    draw.text((MARGIN, MARGIN), "ZAPISNIK O RADU BIRACKOG ODBORA", fill=INK)
    draw.text((MARGIN, MARGIN + LINE), f"Biracko mesto {code}", fill=INK)
    lines = [(name, str(paper.values[name])) for name in COUNT_FIELDS]
    lines += [(f"lista {number}", str(votes)) for number, votes in sorted(paper.votes.items())]
    top = MARGIN + 3 * LINE
    for index, (label, value) in enumerate(lines):
        y = top + index * LINE
        if y > HEIGHT - 4 * LINE:
            break
        draw.text((MARGIN, y), label, fill=INK)
        draw.text((WIDTH - MARGIN - 8 * len(value), y), value, fill=INK)
        draw.line((MARGIN, y + LINE - 3, WIDTH - MARGIN, y + LINE - 3), fill=RULE)
    signatures = int(paper.values.get("board_signatures", 0))
    for index in range(signatures):
        x = MARGIN + index * 56
        draw.line((x, HEIGHT - 2 * LINE, x + 44, HEIGHT - 2 * LINE - 6), fill=INK, width=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
