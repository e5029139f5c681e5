"""URL downloads: the yt-dlp core (also shipped alone in the fetch sandbox), its settings and host checks."""
