"""Copy the real data sets the panel specs use from tests/parity/data into specs/data (provenance: each
case JSON in tests/parity/cases names its R package and data set).  injury_ky.csv is injury.csv restricted to
Kentucky (ky == 1), the sample of Meyer, Viscusi & Durbin (1995) that the did_injury_2x2 case uses."""

from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SRC, DST = ROOT / "tests" / "parity" / "data", ROOT / "specs" / "data"

if __name__ == "__main__":
    DST.mkdir(parents=True, exist_ok=True)
    for name in ("wagepan.csv", "mroz.csv", "mpdta.csv"):
        (DST / name).write_bytes((SRC / name).read_bytes())
    injury = pd.read_csv(SRC / "injury.csv")
    injury[injury["ky"] == 1].to_csv(DST / "injury_ky.csv", index=False)
