"""`cmake --install` of the textcnn_python component puts a package that imports into
<prefix>/lib/python3.X/<site or dist>-packages (TEXTCNN_PYTHON_INSTALL_DIR)."""

import os
import subprocess
import sys

import pytest

BUILD = os.environ.get("TEXTCNN_BINARY_DIR")


@pytest.mark.skipif(not BUILD, reason="run by CTest, which names the build directory")
def test_installed_package_imports(tmp_path):
    subprocess.run(["cmake", "--install", BUILD, "--prefix", str(tmp_path), "--component", "textcnn_python"],
                   check=True, capture_output=True)
    cache = open(os.path.join(BUILD, "CMakeCache.txt")).read()
    site = next(line.split("=", 1)[1] for line in cache.splitlines()
                if line.startswith("TEXTCNN_PYTHON_INSTALL_DIR:"))
    assert site == "lib/python%d.%d/%s" % (sys.version_info[0], sys.version_info[1], os.path.basename(site))
    env = dict(os.environ, PYTHONPATH=str(tmp_path / site))  # and a working directory without textcnn/
    out = subprocess.run([sys.executable, "-c", "import textcnn; print(textcnn.__file__); "
                          "print(textcnn.TextCNNClassifier().get_params()['maps'])"],
                         env=env, cwd=str(tmp_path), check=True, capture_output=True, text=True).stdout.split()
    assert out[0] == str(tmp_path / site / "textcnn" / "__init__.py")
    assert out[1] == "100"
