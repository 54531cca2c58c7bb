"""The district as its data files say (data/district/*.csv): which enterprise a complaint names, its class, and the
station that reviews it (docs/rules.md §3: the respondent's township first, then the enterprise's station, then the
intake desk)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

INTAKE_DESK = "JS-INTAKE"


@dataclass(frozen=True)
class Enterprise:
    uscc: str
    enterprise_class: str
    station: str
    listed_on: date
    delisted_on: date | None

    def listed(self, day: date) -> bool:
        """rules.md §3: listed when listed_on <= day and (no delisting or day <= delisted_on)."""
        return self.listed_on <= day and (self.delisted_on is None or day <= self.delisted_on)


@dataclass(frozen=True)
class District:
    enterprises: dict[str, Enterprise]  # by USCC
    township_station: dict[str, str]  # 9-digit division code -> station

    def station_for(self, division_code: str | None, enterprise: Enterprise | None) -> str:
        if division_code and len(division_code) == 9 and division_code in self.township_station:
            return self.township_station[division_code]
        return enterprise.station if enterprise else INTAKE_DESK


def load_district(folder: Path) -> District:
    with (folder / "odr-directory.csv").open(encoding="utf-8-sig") as f:
        enterprises = {
            r["uscc"]: Enterprise(
                r["uscc"],
                r["class"],
                r["station_code"],
                date.fromisoformat(r["listed_on"]),
                date.fromisoformat(r["delisted_on"]) if r["delisted_on"] else None,
            )
            for r in csv.DictReader(f)
        }
    townships: dict[str, str] = {}
    with (folder / "stations.csv").open(encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            for code in row["division_codes"].replace("；", ";").split(";"):
                if code.strip():
                    townships[code.strip()] = row["station_code"]
    return District(enterprises, townships)
