"""Pages of 一呼百应: whistles, meetings and action items, consent polls, public meeting notices."""
