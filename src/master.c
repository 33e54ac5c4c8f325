/* The prefork master (issue 10): written next. */
typedef int master_placeholder;
