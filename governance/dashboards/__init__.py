"""Tier dashboards (工委 → 街道 → 社区 → 网格) and the monthly assessment report (成绩单).

``selectors`` reads (a fixed number of queries whatever the data size), ``views`` renders
them, ``exports`` writes the page's tables to .xlsx, ``links`` builds the case-queue
addresses every number points to, ``sections`` adds what later parts of the portal
(whistles, meetings, volunteers) have to say once they hold data.
"""
