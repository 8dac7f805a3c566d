# Install-time part of cmake/packaging.cmake: writes the systemd units and the default config for
# the prefix being installed to, and installs them. Runs inside cmake_install.cmake (so under
# `cmake --install`, `make install` and CPack), where CMAKE_INSTALL_PREFIX is that installation's
# prefix and DESTDIR, if set, the staging root. Set before it: C10K_SOURCE_DIR, C10K_STAGE_DIR,
# C10K_BINDIR, C10K_DATADIR.
#
# packaging/ holds the files as the Debian package installs them (prefix /usr, config in /etc);
# for another prefix the paths in them are rewritten, as GNUInstallDirs places the sysconfdir:
# /etc for /usr, /etc/opt/NAME for /opt/NAME, PREFIX/etc otherwise.

set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
  set(sysconfdir "/etc")
elseif(prefix MATCHES "^/opt/")
  set(sysconfdir "/etc${prefix}")
else()
  set(sysconfdir "${prefix}/etc")
endif()
set(config_dir "${sysconfdir}/c10k")
set(site_dir "${prefix}/${C10K_DATADIR}/c10k/site")

# Written beside the build, one folder per prefix, so that the files can be read after an install.
string(MAKE_C_IDENTIFIER "${prefix}" prefix_name)
set(stage "${C10K_STAGE_DIR}/for${prefix_name}")
foreach(name c10k.service c10k.socket c10k.toml)
  file(READ "${C10K_SOURCE_DIR}/packaging/${name}" text)
  string(REPLACE "/usr/bin/c10k" "${prefix}/${C10K_BINDIR}/c10k" text "${text}")
  string(REPLACE "/etc/c10k/" "${config_dir}/" text "${text}")
  string(REPLACE "/usr/share/c10k/site" "${site_dir}" text "${text}")
  file(WRITE "${stage}/${name}" "${text}")
endforeach()

file(INSTALL DESTINATION "${prefix}/lib/systemd/system" TYPE FILE
     FILES "${stage}/c10k.service" "${stage}/c10k.socket")

# Only where there is no config yet: `make install` over an earlier one must not undo the
# administrator's edits (the package's copy is protected by dpkg, as a conffile, instead).
set(config "$ENV{DESTDIR}${config_dir}/c10k.toml")
if(EXISTS "${config}")
  message(STATUS "Kept: ${config} (the new default is ${stage}/c10k.toml)")
else()
  file(INSTALL DESTINATION "${config_dir}" TYPE FILE FILES "${stage}/c10k.toml")
endif()
