# Chart for bench/tunnel: called as
#   gnuplot -e "thr='thr.dat'; lat='lat.dat'; out='tunnel.png'; sub='...'" tunnel_plot.gp
# thr.dat: case, then throughput of wireguard-go, silosecd udp, silosecd ip, plain veth,
#          each divided by wireguard-go's (so wireguard-go = 1.0).
# lat.dat: case, then wireguard-go, silosecd udp, silosecd ip normalised the same way,
#          then the three absolute values as quoted text (for the labels).
set terminal pngcairo size 1650,620 enhanced font "DejaVu Sans,11"
set output out
set datafile missing "nan"
set style fill solid 0.85 border lc rgb "#333333"
set key top center horizontal font ",10" samplen 2 width 1
set grid ytics lc rgb "#dddddd"
set xtics scale 0 font ",10"
set offsets 0.5, 0.5, 0, 0
set bmargin 4.5
max3(a, b, c) = (a > b ? (a > c ? a : c) : (b > c ? b : c))
stats thr using 3 name "tu" nooutput
stats thr using 4 name "ti" nooutput
stats lat using 3 name "lu" nooutput
stats lat using 4 name "li" nooutput
thr_top = max3(3.0, tu_max, ti_max) * 1.22
lat_top = max3(1.0, lu_max, li_max) * 1.22
bw = 0.25
c_wg = "#8c8c8c"; c_udp = "#1f77b4"; c_ip = "#ff7f0e"
set multiplot layout 1,2 title "SiloSec tunnel benchmark (bench/tunnel), ".sub font ",13"

set title "Throughput relative to wireguard-go (higher is better)"
set ylabel "× wireguard-go"
set yrange [0:thr_top]
set arrow 1 from graph 0, first 3 to graph 1, first 3 nohead dt 2 lw 1.5 lc rgb "#2ca02c" front
set label 1 "target 3.0×" at graph 0.01, first 3 left offset 0,0.6 tc rgb "#2ca02c" front
plot thr using ($0 - bw):2:(bw) with boxes lc rgb c_wg title "wireguard-go", \
     ''  using ($0):3:(bw):xtic(1) with boxes lc rgb c_udp title "silosecd udp", \
     ''  using ($0 + bw):4:(bw) with boxes lc rgb c_ip title "silosecd ip", \
     ''  using ($0 - bw):2:(sprintf("%.2f", $2)) with labels offset 0,0.7 font ",9" notitle, \
     ''  using ($0):3:(sprintf("%.2f", $3)) with labels offset 0,0.7 font ",9" notitle, \
     ''  using ($0 + bw):4:(sprintf("%.2f", $4)) with labels offset 0,0.7 font ",9" notitle

unset arrow 1
unset label 1
set title "Latency and setup relative to wireguard-go (lower is better; labels: absolute)"
set yrange [0:lat_top]
set arrow 2 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 lc rgb "#2ca02c" front
plot lat using ($0 - bw):2:(bw) with boxes lc rgb c_wg title "wireguard-go", \
     ''  using ($0):3:(bw):xtic(1) with boxes lc rgb c_udp title "silosecd udp", \
     ''  using ($0 + bw):4:(bw) with boxes lc rgb c_ip title "silosecd ip", \
     ''  using ($0 - bw):2:(stringcolumn(5)) with labels offset 0,0.7 font ",9" notitle, \
     ''  using ($0):3:(stringcolumn(6)) with labels offset 0,0.7 font ",9" notitle, \
     ''  using ($0 + bw):4:(stringcolumn(7)) with labels offset 0,0.7 font ",9" notitle
unset multiplot
