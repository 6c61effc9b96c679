@echo off
rem 报送检查工具（Windows）：把县市文件夹拖到本文件上，或双击后输入文件夹路径。
rem 第一次使用时，在本文件夹中建立 .venv 并从 wheels 安装检查工具，不需要联网。
setlocal
cd /d "%~dp0"
set "FOLDER=%~1"
if "%FOLDER%"=="" set /p "FOLDER=请把县市文件夹拖到这个窗口里，然后按回车："
set "FOLDER=%FOLDER:"=%"
rem 文件夹、它的 .zip 压缩包，或者别的东西：都交给检查工具，由它说明该怎么办。
if exist ".venv\Scripts\python.exe" goto check
set "PY="
where py >nul 2>nul && set "PY=py -3"
if not defined PY where python >nul 2>nul && set "PY=python"
if not defined PY goto nopython
echo 第一次使用：正在安装检查工具（不需要联网）……
%PY% -m venv .venv || goto nopython
".venv\Scripts\python.exe" -m pip install --quiet --disable-pip-version-check --no-index --find-links wheels -r requirements-checker.txt || goto failed
:check
for %%I in ("%FOLDER%") do set "REPORT=%%~dpI检查结果.html"
".venv\Scripts\python.exe" -m pipeline check "%FOLDER%" --report "%REPORT%"
echo.
echo 检查结果已另存为：%REPORT%
start "" "%REPORT%"
goto end
:nopython
echo 没有找到 Python。请先安装 Python 3.11、3.12 或 3.13（python.org 的安装程序，安装时勾选“Add python.exe to PATH”），
echo 或向单位信息管理员索取，然后重新运行本工具。
goto end
:failed
echo 安装检查工具失败：请确认 Python 的版本是 3.11、3.12 或 3.13，再删除本文件夹中的 .venv 后重试。
:end
pause
