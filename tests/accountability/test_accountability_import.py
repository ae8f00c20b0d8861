"""Importing a transferred case list: preview writes nothing, confirm writes all or nothing,
errors say "第N行 列名: 原因"."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from accountability.importing import cases_import, import_parse, workbook_bytes_check
from accountability.models import Case, CaseSource, Stage, StageRecord
from accountability.services import case_create
from tests.accountability.acc_helpers import *  # noqa: F403 (the register's cast: fixtures and helpers)
from tests.accountability.acc_helpers import PDF
from tests.hostile_zips import encrypted_flag, header_lies, laughing_workbook

pytestmark = pytest.mark.django_db

HEADER = ["序号", "编号", "问题", "涉及单位", "地区", "交办日期", "办理机关", "关联任务"]
GOOD = [
    [1, "移交-001", "某县违规审批煤矿项目,生态破坏问题长期未整改", "省煤炭工业厅、晋中市政府", "晋中市",
     dt.datetime(2017, 9, 1), "省纪委省监委", "1"],
    [2, "移交-002", "汾河某段污水直排", "临汾市政府;省环保厅", "大同市城区", "2017年9月5日", "临汾市纪委", ""],
    [3, "移交-003", "自然保护区违规开采", "忻州市政府", "", 43000, "", "2、3"],
]


def xlsx(rows, header=HEADER, title_rows=("山西省移交责任追究问题清单",)) -> bytes:
    wb = Workbook()
    ws = wb.active
    for t in title_rows:
        ws.append([t])
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def as_upload(data: bytes, name="清单.xlsx"):
    return SimpleUploadedFile(name, data)


def test_a_good_list_previews_then_imports(plan, acc_officer):
    preview = import_parse(workbook_bytes_check(as_upload(xlsx(GOOD))))
    assert preview.errors == []
    assert [r.row for r in preview.rows] == [3, 4, 5]
    assert preview.rows[0].unit_names == ["省煤炭工业厅", "晋中市政府"]
    assert preview.rows[1].region_name == "大同市城区" and preview.rows[1].transferred_on == "2017-09-05"
    assert preview.rows[2].transferred_on == "2017-09-22" and preview.rows[2].task_numbers == [2, 3]
    assert not Case.objects.exists()  # a preview writes nothing
    created = cases_import(actor=acc_officer, rows=preview.session_data()["rows"])
    assert len(created) == 3
    case = Case.objects.get(reference="移交-001")
    assert case.source == CaseSource.TRANSFERRED and case.stage == Stage.CLUE
    assert case.transferred_on == dt.date(2017, 9, 1) and case.region.name == "晋中市"
    assert [t.number for t in case.tasks.all()] == [1]
    assert StageRecord.objects.filter(case=case, kind="OPENED").count() == 1


@pytest.mark.parametrize(("row", "message"), [
    ([9, "", "问题", "", "", "2017-09-01", "", ""], "第2行 编号: 不能为空"),
    ([9, "X-1", "", "", "", "2017-09-01", "", ""], "第2行 问题: 不能为空"),
    ([9, "X-1", "问题", "", "", "", "", ""], "第2行 交办日期: 不能为空"),
    ([9, "X-1", "问题", "", "", "2017-13-40", "", ""], "第2行 交办日期: “2017-13-40”不是有效的日期"),
    ([9, "X-1", "问题", "", "", "2099-01-01", "", ""], "第2行 交办日期: 2099-01-01晚于今天"),
    ([9, "X-1", "问题", "不存在的局", "", "2017-09-01", "", ""], "第2行 涉及单位: 找不到单位:不存在的局"),
    ([9, "X-1", "问题", "", "城区", "2017-09-01", "", ""], "第2行 地区: “城区”在多个市都有"),
    ([9, "X-1", "问题", "", "火星", "2017-09-01", "", ""], "第2行 地区: 找不到行政区“火星”"),
    ([9, "X-1", "问题", "", "", "2017-09-01", "", "99"], "第2行 关联任务: 整改方案中没有序号为99的任务"),
    ([9, "X-1", "问题", "", "", "2017-09-01", "", "abc"], "第2行 关联任务: 任务序号“abc”不是数字"),
])
def test_each_bad_cell_is_named_by_row_and_column(plan, row, message):
    preview = import_parse(xlsx([row], title_rows=()))
    assert any(e.startswith(message) for e in preview.errors), preview.errors


def test_duplicates_in_the_file_and_in_the_register(plan, case):
    rows = [GOOD[0], [2, "移交-001", "重复", "", "", "2017-09-01", "", ""],
            [3, case.reference, "已登记", "", "", "2017-09-01", "", ""]]
    preview = import_parse(xlsx(rows))
    assert "第4行 编号: 与第3行重复" in preview.errors
    assert f"第5行 编号: “{case.reference}”已登记,不能重复导入" in preview.errors


def test_missing_columns_are_named(plan):
    with pytest.raises(ValidationError, match="交办日期"):
        import_parse(xlsx(GOOD, header=["编号", "问题", "涉及单位"]))
    with pytest.raises(ValidationError, match="没有找到表头"):
        import_parse(xlsx(GOOD, header=["A", "B", "C"]))


@pytest.mark.parametrize(("data", "message"), [
    (PDF, "不是xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "不是xlsx"),
    (b"PK\x03\x04not really a zip", "已损坏"),
])
def test_files_that_are_not_workbooks_are_refused(plan, data, message):
    with pytest.raises(ValidationError, match=message):
        workbook_bytes_check(as_upload(data))


def test_zip_caps(plan):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        for i in range(2100):
            z.writestr(f"xl/x{i}.xml", "")
    with pytest.raises(ValidationError, match="条目过多"):
        workbook_bytes_check(as_upload(out.getvalue()))


def test_workbooks_are_unpacked_and_checked_before_openpyxl_sees_them(plan):
    good = xlsx(GOOD)
    sheet = "xl/worksheets/sheet1.xml"
    real_size = zipfile.ZipFile(io.BytesIO(good)).getinfo(sheet).file_size
    with pytest.raises(ValidationError, match="工作簿已损坏,无法解压"):
        workbook_bytes_check(as_upload(header_lies(good, sheet, file_size=real_size - 1)))
    with pytest.raises(ValidationError, match="工作簿的内部XML含有文档类型声明"):
        workbook_bytes_check(as_upload(laughing_workbook()))
    with pytest.raises(ValidationError, match="工作簿已加密"):
        workbook_bytes_check(as_upload(encrypted_flag(good, sheet)))
    assert workbook_bytes_check(as_upload(good)) == good


def test_all_or_nothing_when_the_register_changed_since_the_preview(plan, acc_officer):
    preview = import_parse(xlsx(GOOD))
    case_create(actor=acc_officer, reference="移交-003", source=CaseSource.TRANSFERRED, title="",
                problem_text="抢先登记", transferred_on=dt.date(2017, 9, 1))
    with pytest.raises(ValidationError, match="第5行 编号: 编号“移交-003”已登记"):
        cases_import(actor=acc_officer, rows=preview.session_data()["rows"])
    assert list(Case.objects.values_list("reference", flat=True)) == ["移交-003"]


def test_import_pages_preview_then_confirm(client, plan, acc_officer):
    client.force_login(acc_officer)
    url = reverse("accountability:import")
    response = client.post(url, {"file": as_upload(xlsx(GOOD))})
    assert response.status_code == 200
    text = response.content.decode()
    assert "预览:3个问题" in text and "移交-002" in text
    assert not Case.objects.exists()
    sha = response.context["preview"].sha256
    assert client.post(reverse("accountability:import_confirm"), {"sha256": "0" * 64}).status_code == 400
    assert not Case.objects.exists()
    response = client.post(reverse("accountability:import_confirm"), {"sha256": sha})
    assert response.status_code == 302
    assert Case.objects.count() == 3
    # the preview is spent: confirming twice imports nothing more
    assert client.post(reverse("accountability:import_confirm"), {"sha256": sha}).status_code == 400
    assert Case.objects.count() == 3


def test_import_page_lists_errors_and_writes_nothing(client, plan, acc_officer):
    client.force_login(acc_officer)
    bad = [*GOOD, [4, "移交-004", "<script>x</script>", "不存在的局", "", "2017-09-01", "", ""]]
    response = client.post(reverse("accountability:import"), {"file": as_upload(xlsx(bad))})
    assert response.status_code == 400
    text = response.content.decode()
    assert "第6行 涉及单位: 找不到单位:不存在的局" in text and "确认导入" not in text
    assert not Case.objects.exists()
