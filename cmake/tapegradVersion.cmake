# The version is written once, as __version__ in python/tapegrad/__init__.py: the wheel's metadata
# reads it there ([tool.scikit-build.metadata.version] in pyproject.toml) and so does CMake, here.
# Sets TAPEGRAD_VERSION; run as a script (cmake -P) it prints it, which tests/test_packaging.py uses.
set(_tapegrad_version_file "${CMAKE_CURRENT_LIST_DIR}/../python/tapegrad/__init__.py")
file(STRINGS "${_tapegrad_version_file}" _tapegrad_version_line REGEX "^__version__ = \"[^\"]*\"$")
if(NOT _tapegrad_version_line MATCHES "^__version__ = \"([0-9]+(\\.[0-9]+)*)\"$")
  message(FATAL_ERROR "${_tapegrad_version_file} must hold one line __version__ = \"X.Y.Z\" (numbers only, "
                      "as CMake's project(VERSION) needs); found: '${_tapegrad_version_line}'")
endif()
set(TAPEGRAD_VERSION "${CMAKE_MATCH_1}")
# Editing the version reconfigures the build.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_tapegrad_version_file}")
if(CMAKE_SCRIPT_MODE_FILE)
  message(NOTICE "${TAPEGRAD_VERSION}")
endif()
