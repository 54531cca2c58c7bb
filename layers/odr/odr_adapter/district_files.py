"""Reading the district's stations and ODR directory from the bureau's CSV files."""

from __future__ import annotations

import csv
from pathlib import Path

from .directory import District, Enterprise, Station


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def read_stations(path: Path) -> list[Station]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [
            Station(
                code=row["station_code"].strip(),
                name=row["station_name"].strip(),
                division_codes=_split(row["division_codes"]),
                reviewer_name=row["reviewer_name"].strip(),
                reviewer_email=row["reviewer_email"].strip() or None,
                reviewer_mobile=row["reviewer_mobile"].strip() or None,
            )
            for row in csv.DictReader(handle)
        ]


def read_directory(path: Path) -> list[Enterprise]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [
            Enterprise(
                uscc=row["uscc"].strip(),
                name=row["enterprise_name"].strip(),
                enterprise_class=row["class"].strip(),
                station_code=row["station_code"].strip(),
                shop_names=_split(row["shop_names"]),
                contact_name=row["contact_name"].strip(),
                contact_email=row["contact_email"].strip() or None,
                contact_mobile=row["contact_mobile"].strip() or None,
                listed_on=row["listed_on"].strip(),
                delisted_on=row["delisted_on"].strip() or None,
            )
            for row in csv.DictReader(handle)
        ]


def read_district(folder: Path, county_code: str = "310116") -> District:
    return District(
        county_code=county_code,
        stations=read_stations(folder / "stations.csv"),
        enterprises=read_directory(folder / "odr-directory.csv"),
    )
