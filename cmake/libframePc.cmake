# Run at install time (install(CODE) in CMakeLists.txt): writes libframe.pc
# from tools/libframe.pc.in exactly as `make install` does (libdir and
# includedir relative to ${prefix} when they lie under it), for the prefix
# given to `cmake --install`, and installs it (DESTDIR honoured).
# In: LIBFRAME_PC_IN, LIBFRAME_PC_OUT, LIBFRAME_VERSION, LIBFRAME_LIBDIR,
#     LIBFRAME_INCLUDEDIR (the CMAKE_INSTALL_*DIR values), CMAKE_INSTALL_PREFIX.
set(PREFIX "${CMAKE_INSTALL_PREFIX}")
set(VERSION "${LIBFRAME_VERSION}")
foreach(_dir LIBDIR INCLUDEDIR)
    set(_path "${LIBFRAME_${_dir}}")
    if(NOT IS_ABSOLUTE "${_path}")
        set(_path "${PREFIX}/${_path}")
    endif()
    string(LENGTH "${PREFIX}/" _len)
    string(SUBSTRING "${_path}" 0 ${_len} _head)
    if(_head STREQUAL "${PREFIX}/")
        string(SUBSTRING "${_path}" ${_len} -1 _tail)
        set(_path "\${prefix}/${_tail}")
    endif()
    set(${_dir} "${_path}")
endforeach()
configure_file("${LIBFRAME_PC_IN}" "${LIBFRAME_PC_OUT}" @ONLY)
if(IS_ABSOLUTE "${LIBFRAME_LIBDIR}")
    set(_pcdir "${LIBFRAME_LIBDIR}/pkgconfig")
else()
    set(_pcdir "${CMAKE_INSTALL_PREFIX}/${LIBFRAME_LIBDIR}/pkgconfig")
endif()
file(INSTALL "${LIBFRAME_PC_OUT}" DESTINATION "${_pcdir}")
