"""What each half of text_overlay's labelled set (tests/analyzers/text_set.py) is made from.

No video, photo, font or caption text is in both halves. The held-out half (issue 25, second pool) was
made after 3.0.0's held-out figures had been read: it shares with that first held-out pool only the three
media files (tree.avi, zidane.jpg, scenetext02.jpg), seen through new segments, crops and mirrorings, and
its fonts (Liberation, FreeFont, Noto from Debian packages) and caption texts were never used before.
The fit half is what the weights are fitted on (vtest.avi, bus.jpg, scenetext01.jpg, DejaVu fonts).

Fonts are paths under /usr/share/fonts: Debian's fonts-dejavu-core, fonts-liberation2, fonts-freefont-ttf,
fonts-noto-core and fonts-noto-cjk (.ci/run and `make system-deps` install them).
"""
from __future__ import annotations

from pathlib import Path

FONT_ROOT = Path("/usr/share/fonts")

HALVES: dict[str, dict] = {
    "fit": {"footage": "vtest.avi", "photo": "bus.jpg", "sign": ("scenetext01.jpg", (265, 20, 440, 262)),
            "vehicle": ("bus.jpg", (0, 300, 810, 700)),
            "fonts": ["truetype/dejavu/DejaVuSans-Bold.ttf", "truetype/dejavu/DejaVuSerif.ttf",
                      "truetype/dejavu/DejaVuSansMono-Bold.ttf"],
            "zh_font": "opentype/noto/NotoSansCJK-Bold.ttc",
            "captions": ["FOLLOW FOR PART 2", "WAIT FOR IT", "LINK IN BIO", "DAY 3 OF 30", "SAVE THIS",
                         "STORY TIME", "NEW RECIPE", "WATCH TILL END"],
            "zh_captions": ["关注我", "今天吃什么", "第二部分", "点赞收藏", "周末快乐", "马上开始"],
            "pops": [["TRY", "THIS", "NOW"], ["ONE", "MORE", "TIME"], ["DONT", "MISS", "IT"], ["SO", "GOOD", "OK"]],
            "handles": ["@dance.with.me", "@runner_demo", "@cooking.daily", "@the.trip"],
            "screens": ["Battery 12%", "New message", "Order placed", "Boarding now"],
            # footage: clip start = t0 + dt * k (per category, text_set.py), the centre crop, not mirrored
            "shift": 0.0, "mirror": False, "crops": {}, "mirror_photos": ()},
    "held_out": {"footage": "tree.avi", "photo": "zidane.jpg", "sign": ("scenetext02.jpg", (300, 470, 1010, 960)),
                 "vehicle": ("scenetext02.jpg", (380, 560, 1000, 960)),
                 "fonts": ["truetype/liberation2/LiberationSans-Bold.ttf", "truetype/freefont/FreeSerifBold.ttf",
                           "truetype/noto/NotoSans-Regular.ttf", "truetype/liberation2/LiberationSerif-Regular.ttf",
                           "truetype/freefont/FreeSansBold.ttf"],
                 "zh_font": "opentype/noto/NotoSerifCJK-Bold.ttc",
                 "captions": ["GAME ON", "SEE IT TO BELIEVE IT", "QUICK TIP", "MY FIRST VLOG", "WHY NOT",
                              "SUNDAY RESET", "DONT SKIP", "TOP 5 PICKS", "LOOK CLOSER", "REAL TALK", "PLOT TWIST"],
                 "zh_captions": ["新的一天", "跟我一起学", "生日快乐", "明天见", "看到最后", "好久不见", "小心地滑"],
                 "pops": [["HERE", "WE", "ARE"], ["OH", "MY", "GOSH"], ["LOOK", "UP", "HIGH"], ["KEEP", "ON", "DANCING"],
                          ["ALL", "SET", "DONE"], ["FIRST", "WIN", "YAY"], ["BE", "RIGHT", "BACK"]],
                 "handles": ["@sunny.side", "@daily_grind", "@pixel.kitchen", "@wild_trails", "@late.night.eats"],
                 "screens": ["Alarm 07:00", "Wi-Fi off", "Update ready", "Missed call", "Timer done"],
                 # new segments (starts shifted, wrapped inside the 29.6 s), side crops, mirrored footage,
                 # new crops of the photos (zidane.jpg mirrored; a sign photo is never mirrored)
                 "shift": 0.9, "mirror": True, "crops": {"scenetext02.jpg": (120, 260, 1280, 960),
                                                          "zidane.jpg": (60, 0, 1000, 720)},
                 "mirror_photos": ("zidane.jpg",)},
}
LABEL = {"caption_moving": "overlay", "caption_still": "overlay", "word_pops": "overlay", "boxed": "overlay",
         "two_line_shadow": "overlay", "handle": "overlay", "caption_zh": "overlay", "tripod_sign": "scene",
         "vehicle_sign": "scene", "handheld": "scene", "pan_zoom": "scene"}
#: clips per category in each half (held out: ~20 lines or more in each category)
COUNTS = {
    "fit": {"caption_moving": 9, "caption_still": 9, "word_pops": 6, "boxed": 10, "two_line_shadow": 8, "handle": 10,
            "caption_zh": 8, "tripod_sign": 9, "vehicle_sign": 8, "handheld": 9, "pan_zoom": 10},
    "held_out": {"caption_moving": 10, "caption_still": 10, "word_pops": 7, "boxed": 10, "two_line_shadow": 10,
                 "handle": 11, "caption_zh": 10, "tripod_sign": 7, "vehicle_sign": 8, "handheld": 10, "pan_zoom": 10},
}
#: clips analysed with languages en + zh (the analyzer's `languages` parameter)
ZH = {"caption_zh"}
