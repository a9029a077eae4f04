"""Driving the app headless (``streamlit.testing.v1.AppTest``): open pages, upload files, read what they show."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from devkit.data import WORKBOOK

ROOT = Path(__file__).resolve().parents[2]


TINY = b"""Invoice,Customer ID,InvoiceDate,Quantity,Price,Country
1,A,2024-01-01 10:00,2,5.00,UK
2,B,2024-01-05 09:00,1,10.00,France
C3,A,2024-01-06 09:00,-1,5.00,UK
"""


def app_test() -> AppTest:
    return AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)


def metric_values(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def markdown_table(at: AppTest, column: str):
    """The Markdown table on the page (``ui.static_table``) with ``column``: its cells as shown, unescaped (text)."""
    import re

    import pandas as pd

    def cells(line: str) -> list[str]:
        return [re.sub(r"\\(.)", r"\1", cell.strip()) for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]

    for element in at.markdown:
        lines = element.value.splitlines()
        if len(lines) > 1 and lines[0].startswith("| ") and column in cells(lines[0]):
            return pd.DataFrame([cells(line) for line in lines[2:]], columns=cells(lines[0]))
    raise LookupError(f"no table with a column {column!r}")


def ledger_table(at: AppTest):
    """The Data page's ledger: one row per rule, its rows and revenue as numbers again."""
    frame = markdown_table(at, "rule")
    return frame.assign(
        rows=frame["rows"].str.replace(",", "").astype(int), revenue=frame["revenue"].str.replace(",", "").astype(float)
    )


def ledger_rows(at: AppTest) -> dict[str, int]:
    frame = ledger_table(at)
    return dict(zip(frame["rule"], frame["rows"]))


def keyed(widgets, name: str):
    """The widget keyed ``name``, or keyed to the file or the applied choices (``ui.file_key``, ``ui.choices_key``,
    ``ui.state_key``: ``name@<token>``)."""
    return next(widget for widget in widgets if widget.key == name or str(widget.key).startswith(f"{name}@"))


def upload(at: AppTest, name: str, data: bytes, mime: str = "text/csv") -> AppTest:
    at.file_uploader(key="upload").upload(name, data, mime)
    return at.run()


def data_page_figures(at: AppTest) -> tuple:
    """Everything the Data page reports about the cleaning: the cards and every ledger line."""
    frame = ledger_table(at)
    return metric_values(at), frame[["rule", "applied", "rows", "revenue"]].to_dict("records")


def sales_file() -> bytes:
    """The shape of a well-known public sample: the line total is its own column (SALES), not quantity x price
    (PRICEEACH is capped at 100), dates month first with a time; customers are company names."""
    lines = ["ORDERNUMBER,QUANTITYORDERED,PRICEEACH,ORDERLINENUMBER,SALES,ORDERDATE,STATUS,PRODUCTCODE,CUSTOMERNAME,COUNTRY"]
    for order in range(40):
        for line in range(1, 4):
            quantity, price = 20 + order % 7, 60.0 + 30 * line
            lines.append(
                f"{10100 + order},{quantity},{min(price, 100.0):.2f},{line},{quantity * price:.2f},{1 + order % 12}/{13 + order % 15}/2004 0:00,"
                f"Shipped,S10_{1000 + line},Company {order % 9},{'USA' if order % 2 else 'France'}"
            )
    return ("\n".join(lines) + "\n").encode()


def cdnow_file() -> bytes:
    """The shape of the CDNOW master file: no invoice column, fields split by runs of spaces, yyyymmdd dates."""
    lines = [" customer_id  date number_of_cds  dollar_value"]
    for row in range(60):
        lines.append(f" {1 + row % 17:05d} 1997{1 + row % 12:02d}{1 + row % 28:02d}  {1 + row % 3}  {11.77 + row:.2f}")
    return ("\n".join(lines) + "\n").encode()


def files_that_read() -> list[tuple[str, bytes]]:
    from tests.support.corpus import CASES

    files = [(case.name, case.build()) for case in CASES.values() if case.error is None]
    files += [("sales_data_sample.csv", sales_file()), ("CDNOW_master.txt", cdnow_file())]
    if WORKBOOK.exists():
        files.append((WORKBOOK.name, WORKBOOK.read_bytes()))
    return files


def open_page(page: str) -> AppTest:
    """A new session on the demo data, on ``page``."""
    return app_test().run().switch_page(page).run()


def rfm_page(tab: str = "Scores") -> AppTest:
    """The RFM page on the demo data, ``tab`` open (only the open tab is drawn)."""
    return open_tab(open_page("pages/rfm_table.py"), "rfm_tab", tab)


def open_tab(at: AppTest, key: str, tab: str) -> AppTest:
    """Open ``tab`` of the stateful tabs keyed ``key``, as a click does."""
    at.session_state[key] = tab
    return at.run()


def open_box(at: AppTest, key: str, tab: str | None = None) -> AppTest:
    """Open the expander keyed ``key``, or its ``tab`` if ``key`` keys tabs (drawn only when open:
    ``on_change="rerun"``), as a click does."""
    at.session_state[key] = True if tab is None else tab
    return at.run()


def frame_with(at: AppTest, column: str):
    """The first st.dataframe on the page that has ``column``."""
    return next(df.value for df in at.dataframe if column in df.value.columns or df.value.index.name == column)


def clusters_page() -> AppTest:
    return open_page("pages/clusters.py")


def download_buttons(at: AppTest) -> dict[str, object]:
    return {button.proto.label: button.proto for button in at.get("download_button")}
