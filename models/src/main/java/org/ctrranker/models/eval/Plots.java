package org.ctrranker.models.eval;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;

/** Small line charts drawn with Java2D (headless), written as PNG. */
final class Plots {

    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
        new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
        new Color(0x17becf), new Color(0xbcbd22)};
    private static final int W = 900;
    private static final int H = 520;
    private static final int LEFT = 70;
    private static final int RIGHT = 200;
    private static final int TOP = 40;
    private static final int BOTTOM = 50;

    private Plots() {}

    /** One line per series over x = 0..n-1 (or the given x values), with a legend. */
    static void lines(Path file, String title, String xLabel, String yLabel, Map<String, double[][]> series,
            boolean diagonal) throws IOException {
        double minX = Double.MAX_VALUE;
        double maxX = -Double.MAX_VALUE;
        double minY = Double.MAX_VALUE;
        double maxY = -Double.MAX_VALUE;
        for (double[][] s : series.values()) {
            for (int i = 0; i < s[0].length; i++) {
                if (Double.isFinite(s[1][i])) {
                    minX = Math.min(minX, s[0][i]);
                    maxX = Math.max(maxX, s[0][i]);
                    minY = Math.min(minY, s[1][i]);
                    maxY = Math.max(maxY, s[1][i]);
                }
            }
        }
        if (diagonal) {
            minX = minY = Math.min(minX, minY);
            maxX = maxY = Math.max(maxX, maxY);
        }
        if (minX == Double.MAX_VALUE) {
            minX = minY = 0;
            maxX = maxY = 1;
        }
        double padY = Math.max(1e-6, (maxY - minY) * 0.05);
        minY -= padY;
        maxY += padY;
        if (maxX == minX) {
            maxX = minX + 1;
        }
        BufferedImage image = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, LEFT, 24);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        int plotW = W - LEFT - RIGHT;
        int plotH = H - TOP - BOTTOM;
        g.drawRect(LEFT, TOP, plotW, plotH);
        for (int t = 0; t <= 5; t++) {
            double vy = minY + (maxY - minY) * t / 5;
            int py = TOP + plotH - (int) (plotH * t / 5.0);
            g.setColor(new Color(0xe0e0e0));
            g.drawLine(LEFT + 1, py, LEFT + plotW - 1, py);
            g.setColor(Color.BLACK);
            g.drawString(String.format("%.4g", vy), 5, py + 4);
            double vx = minX + (maxX - minX) * t / 5;
            int px = LEFT + (int) (plotW * t / 5.0);
            g.drawString(String.format("%.3g", vx), px - 10, TOP + plotH + 18);
        }
        g.drawString(xLabel, LEFT + plotW / 2 - 40, H - 10);
        g.drawString(yLabel, 5, TOP - 8);
        if (diagonal) {
            g.setColor(Color.GRAY);
            g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {5f}, 0f));
            g.drawLine(LEFT, TOP + plotH, LEFT + plotW, TOP);
        }
        int colour = 0;
        int legendY = TOP + 10;
        for (Map.Entry<String, double[][]> e : series.entrySet()) {
            Color c = PALETTE[colour++ % PALETTE.length];
            g.setColor(c);
            g.setStroke(new BasicStroke(2f));
            double[][] s = e.getValue();
            int lastX = -1;
            int lastY = -1;
            for (int i = 0; i < s[0].length; i++) {
                if (!Double.isFinite(s[1][i])) {
                    continue;
                }
                int px = LEFT + (int) ((s[0][i] - minX) / (maxX - minX) * plotW);
                int py = TOP + plotH - (int) ((s[1][i] - minY) / (maxY - minY) * plotH);
                if (lastX >= 0) {
                    g.drawLine(lastX, lastY, px, py);
                }
                g.fillOval(px - 3, py - 3, 6, 6);
                lastX = px;
                lastY = py;
            }
            g.fillRect(W - RIGHT + 15, legendY - 8, 14, 4);
            g.setColor(Color.BLACK);
            g.drawString(e.getKey(), W - RIGHT + 35, legendY - 2);
            legendY += 18;
        }
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }

    /** Series of y values at x = 1..n. */
    static Map<String, double[][]> indexed(Map<String, double[]> ys) {
        Map<String, double[][]> out = new LinkedHashMap<>();
        ys.forEach((name, y) -> {
            double[] x = new double[y.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = i + 1;
            }
            out.put(name, new double[][] {x, y});
        });
        return out;
    }
}
