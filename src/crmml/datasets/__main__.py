"""``python -m crmml.datasets``: summarise the real datasets crmml can read on this machine."""

from __future__ import annotations

from crmml.datasets import DatasetNotFoundError, load_bank_marketing, load_cdnow, load_online_retail


def _describe(name, df, key="customer_id", time="timestamp"):
    span = f", {df[time].min():%Y-%m-%d}..{df[time].max():%Y-%m-%d}" if time in df else ""
    print(f"{name:<32} {len(df):>9,} rows, {df[key].nunique():>7,} {key.split('_')[0]}s{span}")


def main() -> None:
    _describe("CDNOW (shipped)", load_cdnow())
    _describe("online retail (shipped sample)", load_online_retail(sample=True))
    leads = load_bank_marketing(sample=True)
    _describe("bank marketing leads (shipped)", leads, key="lead_id", time="")
    print(f"{'':<32} conversion rate {leads['converted'].mean():.3f}")
    try:
        _describe("online retail (../shared/data)", load_online_retail())
    except DatasetNotFoundError as exc:
        print(f"online retail full: {exc}")


if __name__ == "__main__":
    main()
