# The chart of `make bench`: the ratio C/Go per workload, against Go with
# GOMAXPROCS = the cores and with GOMAXPROCS=1, and the target of each. Lower
# is better; 1 means as fast as Go. Called by run.py as
#   gnuplot -e "datafile='build/bench/ratios.dat'; outfile='build/bench/ratios.svg'; cores=2" ratios.gp
set terminal svg size 960,540 dynamic noenhanced font "sans,12" background "white"
set output outfile
set title "common/ against Go's channels: time per operation, C / Go (lower is better)"
set ylabel "C / Go (log scale)"
set logscale y 2
set yrange [0.0625:*]
set grid ytics
set key outside top center horizontal width 3
set bmargin 9
set xtics rotate by -35 left nomirror
set style fill solid 0.85 border -1
set boxwidth 0.38
set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 linecolor "black"
plot datafile using ($0 - 0.2):2:xtic(1) with boxes linecolor "#3a6ea5" \
         title sprintf("vs Go, GOMAXPROCS=%d", cores), \
     "" using ($0 + 0.2):3 with boxes linecolor "#9fc5e8" title "vs Go, GOMAXPROCS=1", \
     "" using 0:4:(0.45) with xerrorbars pointtype 0 linewidth 3 linecolor "#c0392b" \
         title "target"
